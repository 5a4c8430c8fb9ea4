"""The email backends against real protocol peers: the mailbox (SMTP) and a Resend server."""

import base64
import email as email_parser
import socket
import time

import pytest
import requests

from pactra_devtools.testing import wait_until
from pactra_notify.adapters.email_backends import (
    PermanentEmailError,
    ResendBackend,
    SmtpBackend,
    backend_for,
    to_mime,
)
from pactra_notify.config import NotifySettings
from pactra_notify.domain.emails import Attachment, Email

from .conftest import RESEND_KEY, FakeResend, MailboxProcess

FROM = "Pactra <no-reply@pactra.local>"


def email(to: str = "carol@example.com", attachments: tuple[Attachment, ...] = ()) -> Email:
    return Email(kind="invitation", to=to, subject="Sign \u201cNDA\u201d", html="<p>Hi &amp; bye</p>",
                 text="Hi & bye", attachments=attachments)


def test_smtp_delivers_html_text_and_attachment(mailbox: MailboxProcess) -> None:
    pdf = Attachment("signed.pdf", "application/pdf", b"%PDF-1.7\n" + bytes(range(256)))
    message_id = SmtpBackend(mailbox.smtp_url, FROM).send(
        email("smtp-test@example.com", (pdf,)), idempotency_key="evt_1/smtp-test@example.com")
    [received] = wait_until(lambda: mailbox.messages("smtp-test@example.com"))
    assert received["subject"] == "Sign \u201cNDA\u201d"
    assert received["from"] == FROM
    assert received["message_id"] == message_id
    assert received["text"].strip() == "Hi & bye"
    assert received["html"].strip() == "<p>Hi &amp; bye</p>"
    assert received["attachments"] == [
        {"filename": "signed.pdf", "content_type": "application/pdf", "size": len(pdf.content)}]


def test_mime_parts_come_back_whole_whatever_they_say() -> None:
    """Boundaries are set rather than searched for (to_mime): a part that spells one out, a
    line of dashes, or binary bytes, still parses back exactly; each message has its own."""
    hostile = "--=_pactra_0\n--\n=_pactra_\n" + "\u201cNDA\u201d " * 200
    pdf = Attachment("signed.pdf", "application/pdf", b"%PDF-1.7\n--=_pactra_\n" + bytes(range(256)) * 50)
    composed = Email(kind="completed", to="carol@example.com", subject="Done", html=f"<p>{hostile}</p>",
                     text=hostile, attachments=(pdf,))
    raws = [to_mime(composed, FROM, "<m@pactra.local>").as_bytes() for _ in range(2)]
    parsed = [email_parser.message_from_bytes(raw) for raw in raws]
    for message in parsed:
        alternative, attachment = message.get_payload()
        plain, html = alternative.get_payload()
        assert plain.get_payload(decode=True).decode() == hostile
        assert html.get_payload(decode=True).decode() == f"<p>{hostile}</p>"
        assert attachment.get_payload(decode=True) == pdf.content
        assert message.get_boundary().startswith("=_pactra_")
    assert parsed[0].get_boundary() != parsed[1].get_boundary()


def test_a_delivery_sent_again_keeps_its_message_id_and_idempotency_key(
        mailbox: MailboxProcess) -> None:
    """A worker that dies between the server's answer and the ledger's "sent" sends the
    delivery again: the same Message-ID (one message in mail clients) and the same
    Resend-Idempotency-Key (Resend's SMTP relay sends it once); another delivery differs."""
    backend = SmtpBackend(mailbox.smtp_url, FROM)
    try:
        first = backend.send(email("again@example.com"), idempotency_key="evt_a/again@example.com")
        second = backend.send(email("again@example.com"), idempotency_key="evt_a/again@example.com")
        other = backend.send(email("again@example.com"), idempotency_key="evt_b/again@example.com")
    finally:
        backend.close()
    assert first == second != other
    assert first.endswith("@pactra.local>") and "evt_a" not in first
    received = wait_until(lambda: found if len(found := mailbox.messages("again@example.com")) == 3
                          else None)
    assert sorted(m["message_id"] for m in received) == sorted([first, second, other])
    keys = []
    for message in received:
        raw = requests.get(f"{mailbox.web_url}/api/messages/{message['id']}/raw", timeout=10)
        keys.append(email_parser.message_from_bytes(raw.content)["Resend-Idempotency-Key"])
    assert len(set(keys)) == 2 and None not in keys and all("again@" not in k for k in keys)


def test_smtp_sessions_are_reused_and_a_dropped_one_is_replaced(mailbox: MailboxProcess) -> None:
    backend = SmtpBackend(mailbox.smtp_url, FROM)
    try:
        backend.send(email("reuse-1@example.com"), idempotency_key="evt_r/1")
        [(session, _)] = backend._idle
        backend.send(email("reuse-2@example.com"), idempotency_key="evt_r/2")
        assert backend._idle[0][0] is session  # the same session carried the second email

        # The server dropped it while it sat idle: the check before reuse finds out, and a
        # new session takes the email.
        session.sock.shutdown(socket.SHUT_RDWR)
        backend._idle = [(session, time.monotonic() - SmtpBackend.CHECK_AFTER_SECONDS - 1)]
        backend.send(email("reuse-3@example.com"), idempotency_key="evt_r/3")
        assert backend._idle[0][0] is not session
        for n in (1, 2, 3):
            assert len(wait_until(lambda n=n: mailbox.messages(f"reuse-{n}@example.com"))) == 1
    finally:
        backend.close()
    assert backend._idle == []


def test_a_line_break_in_a_subject_cannot_add_a_header(mailbox: MailboxProcess) -> None:
    sneaky = Email(kind="invitation", to="subject-test@example.com",
                   subject="Sign \u201cNDA\u201d\r\nBcc: sneaky@example.com", html="<p>x</p>", text="x")
    SmtpBackend(mailbox.smtp_url, FROM).send(sneaky, idempotency_key="evt_s/1")
    [received] = wait_until(lambda: mailbox.messages("subject-test@example.com"))
    assert received["subject"] == "Sign \u201cNDA\u201d Bcc: sneaky@example.com"
    assert mailbox.messages("sneaky@example.com") == []


def test_smtp_url_must_be_smtp() -> None:
    with pytest.raises(ValueError, match="smtp"):
        SmtpBackend("http://127.0.0.1:1025", FROM)


def test_resend_sends_with_bearer_key_and_retries_a_429(fake_resend: FakeResend) -> None:
    fake_resend.reset(script=[429])
    backend = ResendBackend(fake_resend.url, RESEND_KEY, FROM, backoff=0.01)
    pdf = Attachment("signed.pdf", "application/pdf", b"%PDF-1.7 bytes")
    provider_id = backend.send(email(attachments=(pdf,)), idempotency_key="evt_9/carol@example.com")
    assert [r["status"] for r in fake_resend.requests] == [429, 200]
    [accepted] = fake_resend.accepted()
    assert provider_id.startswith("4ef9a417-")
    assert accepted["headers"]["Idempotency-Key"] == "evt_9/carol@example.com"
    body = accepted["body"]
    assert body["from"] == FROM and body["to"] == ["carol@example.com"]
    assert body["subject"] == "Sign \u201cNDA\u201d"
    assert body["html"] == "<p>Hi &amp; bye</p>" and body["text"] == "Hi & bye"
    [attachment] = body["attachments"]
    assert attachment["filename"] == "signed.pdf"
    assert base64.b64decode(attachment["content"]) == b"%PDF-1.7 bytes"


def test_resend_gives_up_after_its_attempts(fake_resend: FakeResend) -> None:
    fake_resend.reset(script=[500, 503, 429])
    backend = ResendBackend(fake_resend.url, RESEND_KEY, FROM, attempts=3, backoff=0.01)
    with pytest.raises(RuntimeError, match="after 3 tries"):
        backend.send(email(), idempotency_key="k")
    assert fake_resend.accepted() == []


def test_resend_wrong_key_is_retryable_and_validation_is_permanent(fake_resend: FakeResend) -> None:
    fake_resend.reset()
    with pytest.raises(RuntimeError, match="401") as raised:
        ResendBackend(fake_resend.url, "re_wrong", FROM, backoff=0.01).send(email(), idempotency_key="k")
    assert not isinstance(raised.value, PermanentEmailError)
    bad = ResendBackend(fake_resend.url + "/nowhere", RESEND_KEY, FROM, backoff=0.01)
    with pytest.raises(PermanentEmailError, match="404"):
        bad.send(email(), idempotency_key="k")
    assert len(fake_resend.requests) == 2


def test_settings_choose_the_backend(fake_resend: FakeResend) -> None:
    chosen = backend_for(NotifySettings(email_backend="resend", resend_api_key=RESEND_KEY,
                                        resend_base_url=fake_resend.url))
    assert isinstance(chosen, ResendBackend) and chosen.url == fake_resend.url + "/emails"
    assert isinstance(backend_for(NotifySettings()), SmtpBackend)
    with pytest.raises(ValueError, match="RESEND_API_KEY"):
        backend_for(NotifySettings(email_backend="resend", resend_api_key=""))
