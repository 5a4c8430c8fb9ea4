"""The notify worker as a real process: events in on the bus, mail out to the mailbox.

Events are published as the producers publish them (persistent, message id = event id,
routing key = type); the mailbox is the stack's own ``pactra-dev mailbox``.
"""

import asyncio
import json
import re
import secrets
from collections.abc import Iterator

import aio_pika
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from pactra_contracts.events import (
    AgreementCreated,
    Event,
    Person,
    ReceiptIssued,
    Recipient,
    SealedLink,
    SignerInvited,
    SignerSummary,
    make_event,
)
from pactra_contracts.ids import new_id
from pactra_contracts.times import utcnow
from pactra_devtools.stack import Stack
from pactra_devtools.testing import unique_email, wait_until
from pactra_platform.deadletters import list_dead_letters
from pactra_signing.adapters.links import seal_link

from .conftest import RESEND_KEY, FakeResend

SENDER = Person(name="Ada <Lovelace>", email="ada@example.com")


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    created = Stack.create()
    try:
        created.start("notify-worker")
        created.wait_workers()
        yield created
    finally:
        created.close()


def publish(stack: Stack, *events: Event) -> None:
    async def go() -> None:
        connection = await aio_pika.connect(stack.settings.amqp_url)
        try:
            channel = await connection.channel(publisher_confirms=True)
            exchange = await channel.get_exchange(f"{stack.settings.bus_prefix}.events")
            for event in events:
                await exchange.publish(aio_pika.Message(
                    event.to_json(), message_id=event.id, content_type="application/json",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT), routing_key=event.type)
        finally:
            await connection.close()

    asyncio.run(go())


def notify_db(stack: Stack, sql: str, **params: object) -> list[tuple]:
    engine = create_engine(stack.settings.database_url_of("notify"), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


def notify_db_write(stack: Stack, sql: str, **params: object) -> None:
    engine = create_engine(stack.settings.database_url_of("notify"), poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(text(sql), params)
    finally:
        engine.dispose()


def worker_log(stack: Stack, message: str, event_id: str, name: str = "notify-worker") -> list[dict]:
    lines = []
    for line in stack.log(name).splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("message") == message \
                and record.get("event_id") == event_id:
            lines.append(record)
    return lines


def invitation(stack: Stack, event_type: str = "signer.invited", *, agreement_id: str | None = None,
               signer_id: str | None = None, name: str = "Bob <b>Builder</b>",
               email: str | None = None) -> tuple[Event, str]:
    agreement_id = agreement_id or new_id("agr")
    signer_id = signer_id or new_id("sgr")
    link = f"{stack.settings.public_url}/s/{secrets.token_urlsafe(32)}"
    data = SignerInvited(
        agreement_id=agreement_id, signer_id=signer_id, name=name,
        email=email or unique_email("signer"),
        link=SealedLink(sealed=seal_link(stack.settings.master_key, link, signer_id)),
        message="Please sign by Friday & thanks", sender=SENDER, title="NDA <2026>",
        expires_at=utcnow(),
    )
    event = make_event(event_type, data, producer="signing", workspace_id=new_id("ws"),
                       correlation_id=f"req_{secrets.token_hex(8)}")
    return event, link


def agreement_created(agreement_id: str, workspace_id: str, sender: Person,
                      signers: list[tuple[str, str, str]]) -> Event:
    """Signing's announcement of an agreement: the parties notify may email its receipt to."""
    return make_event("agreement.created", AgreementCreated(
        agreement_id=agreement_id, title="NDA", document_id=new_id("doc"),
        document_sha256="c" * 64, document_pages=1, message=None, signing_order="parallel",
        expires_at=utcnow(), sender=sender,
        signers=[SignerSummary(id=signer_id, name=name, email=email, order=1)
                 for signer_id, name, email in signers],
        fields=[]), producer="signing", workspace_id=workspace_id)


def sent_notifications(stack: Stack, event_id: str) -> list[dict]:
    rows = notify_db(stack, "SELECT body FROM outbox WHERE body->>'causation_id' = :id "
                            "AND body->>'type' = 'notification.sent'", id=event_id)
    return [row[0]["data"] for row in rows]


def test_invitation_arrives_once_with_html_text_and_link(stack: Stack) -> None:
    event, link = invitation(stack)
    to = event.data["email"]
    publish(stack, event, event)
    [mail] = wait_until(lambda: stack.messages(to))
    assert mail["subject"] == "Ada <Lovelace> sent you \u201cNDA <2026>\u201d to sign"
    assert mail["from"] == "Pactra <no-reply@pactra.local>"
    # The plain text wraps at 72 columns, so a long link may start the next line.
    assert re.search(rf"Review and sign:\s+{re.escape(link)}", mail["text"])
    assert "Hello Bob <b>Builder</b>," in mail["text"]
    assert f'href="{link}"' in mail["html"]
    assert "Bob &lt;b&gt;Builder&lt;/b&gt;" in mail["html"] and "<b>Builder</b>" not in mail["html"]
    assert "Please sign by Friday &amp; thanks" in mail["html"]
    # The duplicate was seen and dropped, and still only one email exists.
    wait_until(lambda: worker_log(stack, "duplicate event ignored", event.id))
    assert len(stack.messages(to)) == 1
    assert notify_db(stack, "SELECT recipient, kind, status, provider_message_id FROM deliveries "
                            "WHERE event_id = :id", id=event.id) == [
        (to, "invitation", "sent", mail["message_id"])]
    assert wait_until(lambda: sent_notifications(stack, event.id)) == [
        {"kind": "invitation", "recipient": to, "agreement_id": event.data["agreement_id"]}]
    # The link is kept sealed, never in clear.
    [(sealed,)] = notify_db(stack, "SELECT sealed FROM signer_links WHERE signer_id = :s",
                            s=event.data["signer_id"])
    assert sealed == event.data["link"]["sealed"] and link not in sealed


def test_reminder(stack: Stack) -> None:
    event, link = invitation(stack, "signer.reminded")
    publish(stack, event)
    [mail] = wait_until(lambda: stack.messages(event.data["email"]))
    assert mail["subject"] == "Reminder: \u201cNDA <2026>\u201d is waiting for your signature"
    assert link in mail["text"] and link in mail["html"]


@pytest.mark.parametrize("outcome", ["declined", "voided", "expired"])
def test_ending_email_reaches_every_signer_and_the_sender(stack: Stack, outcome: str) -> None:
    agreement_id = new_id("agr")
    first, first_link = invitation(stack, agreement_id=agreement_id, name="Bob")
    second, _ = invitation(stack, agreement_id=agreement_id, name="Carol")
    sender_email = unique_email("sender")
    # Signing announced the agreement with all three; a receipt may reach only them.
    created = agreement_created(agreement_id, first.workspace_id,
                                Person(name="Ada", email=sender_email),
                                [(first.data["signer_id"], "Bob", first.data["email"]),
                                 (second.data["signer_id"], "Carol", second.data["email"])])
    publish(stack, created, first)
    wait_until(lambda: worker_log(stack, "event handled", first.id)
               and worker_log(stack, "event handled", created.id))
    receipt = make_event("receipt.issued", ReceiptIssued(
        agreement_id=agreement_id, receipt_id=new_id("rcpt"), title="Lease & <Annex>",
        outcome=outcome, sealed_sha256=None, receipt_sha256="b" * 64,
        recipients=[
            Recipient(name="Bob", email=first.data["email"], signer_id=first.data["signer_id"]),
            # Carol's invitation never reached notify: her email goes out without a link.
            Recipient(name="Carol", email=second.data["email"], signer_id=second.data["signer_id"]),
            Recipient(name="Ada", email=sender_email, signer_id=None),
        ]), producer="receipts", workspace_id=first.workspace_id)
    publish(stack, receipt)
    wait_until(lambda: len(sent_notifications(stack, receipt.id)) == 3)
    bob = [m for m in stack.messages(first.data["email"]) if "Receipt" in m["text"]]
    [carol] = stack.messages(second.data["email"])
    [ada] = stack.messages(sender_email)
    assert len(bob) == 1
    for mail in (bob[0], carol, ada):
        assert mail["subject"].startswith("\u201cLease & <Annex>\u201d ")
        assert mail["text"] and mail["html"] and mail["attachments"] == []
        assert "Lease &amp; &lt;Annex&gt;" in mail["html"]
    assert re.search(rf"See the record:\s+{re.escape(first_link)}", bob[0]["text"])
    assert "See the record" not in carol["text"] and "See the record" not in ada["text"]
    assert sorted(n["kind"] for n in sent_notifications(stack, receipt.id)) == [outcome] * 3


def test_completed_without_a_signed_pdf_is_retried_then_dead_lettered(stack: Stack) -> None:
    """Receipts does not run here: the PDF cannot be fetched, so nothing is sent, the event is
    retried up to the delivery limit and then waits in notify's dead-letter queue."""
    sender_email = unique_email("sender")
    created = agreement_created(new_id("agr"), new_id("ws"), Person(name="Ada", email=sender_email),
                                [])
    publish(stack, created)
    wait_until(lambda: worker_log(stack, "event handled", created.id))
    receipt = make_event("receipt.issued", ReceiptIssued(
        agreement_id=created.data["agreement_id"], receipt_id=new_id("rcpt"), title="Done deal",
        outcome="completed", sealed_sha256="a" * 64, receipt_sha256="b" * 64,
        recipients=[Recipient(name="Ada", email=sender_email, signer_id=None)],
    ), producer="receipts", workspace_id=created.workspace_id)
    publish(stack, receipt)

    def dead_lettered() -> bool:
        letters = asyncio.run(list_dead_letters(stack.settings, "notify"))
        return any(letter.message_id == receipt.id for letter in letters)

    wait_until(dead_lettered, timeout=60, interval=0.5)
    assert len(worker_log(stack, "handler failed", receipt.id)) >= 2
    assert stack.messages(sender_email) == []
    assert sent_notifications(stack, receipt.id) == []


def test_a_receipt_reaches_only_the_parties_signing_named(stack: Stack) -> None:
    """receipt.issued carries its recipients, but notify emails only addresses signing named
    for that agreement and workspace: a stranger added to the list, or given a real signer's
    id (and so its link), gets nothing; a receipt under another workspace reaches nobody."""
    agreement_id, workspace_id, signer_id = new_id("agr"), new_id("ws"), new_id("sgr")
    signer_email, sender_email = unique_email("signer"), unique_email("sender")
    stranger = unique_email("stranger")
    created = agreement_created(agreement_id, workspace_id, Person(name="Ada", email=sender_email),
                                [(signer_id, "Bob", signer_email)])
    publish(stack, created)
    wait_until(lambda: worker_log(stack, "event handled", created.id))

    def receipt(workspace: str, recipients: list[Recipient]) -> Event:
        return make_event("receipt.issued", ReceiptIssued(
            agreement_id=agreement_id, receipt_id=new_id("rcpt"), title="NDA", outcome="voided",
            sealed_sha256=None, receipt_sha256="b" * 64, recipients=recipients,
        ), producer="receipts", workspace_id=workspace)

    forged = receipt(workspace_id, [
        Recipient(name="Bob", email=signer_email, signer_id=signer_id),
        Recipient(name="Ada", email=sender_email, signer_id=None),
        Recipient(name="Eve", email=stranger, signer_id=None),
        Recipient(name="Eve", email=stranger.upper(), signer_id=signer_id),
    ])
    publish(stack, forged)
    wait_until(lambda: worker_log(stack, "event handled", forged.id))
    assert sorted(n["recipient"] for n in sent_notifications(stack, forged.id)) == sorted(
        [signer_email, sender_email])
    assert notify_db(stack, "SELECT recipient FROM deliveries WHERE event_id = :id "
                            "ORDER BY recipient", id=forged.id) == sorted(
        [(signer_email,), (sender_email,)])
    assert stack.messages(stranger) == []
    assert len(stack.messages(signer_email)) == 1 and len(stack.messages(sender_email)) == 1

    elsewhere = receipt(new_id("ws"), [Recipient(name="Bob", email=signer_email,
                                                 signer_id=signer_id)])
    publish(stack, elsewhere)
    wait_until(lambda: worker_log(stack, "event handled", elsewhere.id))
    assert sent_notifications(stack, elsewhere.id) == []
    assert len(stack.messages(signer_email)) == 1


def test_a_retry_skips_recipients_already_sent(stack: Stack) -> None:
    """As after a crash between sending and committing the inbox: the ledger already says
    ``sent``, so the retried event sends nothing new yet still reports the notification."""
    event, _ = invitation(stack)
    to = event.data["email"]
    notify_db_write(stack, "INSERT INTO deliveries (event_id, recipient, kind, status, "
                           "provider_message_id, created_at, sent_at) VALUES "
                           "(:id, :to, 'invitation', 'sent', '<earlier@pactra.local>', now(), now())",
                    id=event.id, to=to)
    publish(stack, event)
    wait_until(lambda: worker_log(stack, "event handled", event.id))
    assert stack.messages(to) == []
    assert wait_until(lambda: sent_notifications(stack, event.id)) == [
        {"kind": "invitation", "recipient": to, "agreement_id": event.data["agreement_id"]}]


def test_resend_backend_through_the_worker(stack: Stack, fake_resend: FakeResend) -> None:
    """The same worker configured for Resend: the API is throttled once, the email arrives."""
    fake_resend.reset(script=[429])
    stack.stop("notify-worker")
    log_offset = len(stack.log("notify-worker"))
    saved = dict(stack.env)
    stack.env.update({"PACTRA_EMAIL_BACKEND": "resend", "PACTRA_RESEND_API_KEY": RESEND_KEY,
                      "PACTRA_RESEND_BASE_URL": fake_resend.url})
    try:
        stack.start("notify-worker")
    finally:
        stack.env.clear()
        stack.env.update(saved)
    try:
        event, link = invitation(stack)
        wait_until(lambda: "started" in stack.log("notify-worker")[log_offset:].lower(), timeout=60)
        publish(stack, event)
        [accepted] = wait_until(fake_resend.accepted, timeout=30)
        assert [r["status"] for r in fake_resend.requests] == [429, 200]
        body = accepted["body"]
        assert body["to"] == [event.data["email"]]
        assert link in body["text"] and link in body["html"]
        assert accepted["headers"]["Authorization"] == f"Bearer {RESEND_KEY}"
        wait_until(lambda: sent_notifications(stack, event.id))
        assert stack.messages(event.data["email"]) == []
    finally:
        stack.stop("notify-worker")
        stack.start("notify-worker")
