"""Bounces and complaints through the whole platform (issue 14, item 5): notify sends through
a local stand-in of Resend's API, and Resend's Svix-signed report comes back through the
gateway's public route. A bounce shows on the agreement's signer as ``delivery_status`` and
reaches integrators as a ``signer.bounced`` webhook; a forged, stale or replayed report is
refused and changes nothing."""

import base64
import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool
from standardwebhooks.webhooks import Webhook

from pactra_devtools.fake_resend import RESEND_KEY, FakeResend, running_fake_resend
from pactra_devtools.testing import auth, signup, wait_until
from pactra_devtools.webhook_receiver import running_receiver

from . import flows

ROUTE = "/v1/email-events/resend"
PROBLEM = "application/problem+json"


def _secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def signed(secret: str, body: bytes, *, message_id: str | None = None,
           at: datetime | None = None) -> dict[str, str]:
    """Svix's headers for ``body``, as Resend sends them."""
    message_id = message_id or f"msg_{secrets.token_hex(12)}"
    at = at or datetime.now(UTC)
    signature = Webhook(secret).sign(message_id, at, body.decode())
    return {"svix-id": message_id, "svix-timestamp": str(int(at.timestamp())),
            "svix-signature": signature, "Content-Type": "application/json"}


def resend_event(event_type: str, email_id: str, to: str) -> bytes:
    """A Resend webhook body (resend.com/docs/webhooks/emails/bounced)."""
    now = datetime.now(UTC).isoformat()
    data = {"email_id": email_id, "created_at": now, "from": "Pactra <no-reply@pactra.local>",
            "to": [to], "subject": "Please sign", "tags": {}}
    if event_type == "email.bounced":
        data["bounce"] = {"type": "Permanent", "subType": "General",
                          "message": f"The mail server for {to} said: 550 no such user"}
    return json.dumps({"type": event_type, "created_at": now, "data": data}).encode()


def notify_rows(stack, sql: str, **params) -> list[tuple]:
    engine = create_engine(stack.settings.database_url_of("notify"), poolclass=NullPool)
    try:
        with engine.connect() as db:
            return [tuple(row) for row in db.execute(text(sql), params)]
    finally:
        engine.dispose()


def _restart_notify(stack, env: dict[str, str]) -> None:
    for name in ("notify-worker", "notify"):
        stack.stop(name)
    offset = len(stack.log("notify-worker"))
    saved = dict(stack.env)
    stack.env.update(env)
    try:
        stack.start("notify")
        stack.start("notify-worker")
    finally:
        stack.env.clear()
        stack.env.update(saved)
    stack.wait_ready("notify")
    wait_until(lambda: "started" in stack.log("notify-worker")[offset:].lower(), 60)


@contextmanager
def resend_notify(stack) -> Iterator[tuple[FakeResend, str]]:
    """Notify (API and worker) sending through the Resend stand-in and accepting reports
    signed with a fresh secret; afterwards, notify as the rest of the suite expects it. (Mail
    goes to the stand-in meanwhile, not the mailbox: sign up before.)"""
    secret = _secret()
    with running_fake_resend() as fake:
        _restart_notify(stack, {"PACTRA_EMAIL_BACKEND": "resend", "PACTRA_RESEND_API_KEY": RESEND_KEY,
                                "PACTRA_RESEND_BASE_URL": fake.url,
                                "PACTRA_RESEND_WEBHOOK_SECRET": secret})
        try:
            yield fake, secret
        finally:
            _restart_notify(stack, {})


def test_without_a_secret_the_route_does_not_exist(stack, gateway):
    body = resend_event("email.bounced", "4ef9a417-0000", "x@example.com")
    answer = requests.post(gateway + ROUTE, data=body, headers=signed(_secret(), body), timeout=10)
    assert (answer.status_code, answer.headers["Content-Type"]) == (404, PROBLEM), answer.text


def test_a_bounce_marks_the_signer_and_reaches_integrators(stack, gateway):
    account = signup(gateway)
    with resend_notify(stack) as (fake, secret), running_receiver() as receiver:
        endpoint = requests.post(gateway + "/v1/webhooks", headers=auth(account), timeout=10,
                                 json={"url": receiver.url, "events": ["signer.bounced",
                                                                       "signer.complained"]}).json()
        document = flows.upload(gateway, account)
        people = flows.people(2)
        agreement = flows.create(gateway, account, document["id"], people)
        flows.act(gateway, account, agreement["id"], "send")
        bounced, other = agreement["signers"]

        def sent_to(email: str) -> dict | None:
            return next((r for r in fake.accepted() if r["body"]["to"] == [email]), None)

        email_id = wait_until(lambda: sent_to(bounced["email"]), 30)["id"]
        assert notify_rows(stack, "SELECT signer_id FROM deliveries WHERE provider_message_id = :id",
                           id=email_id) == [(bounced["id"],)]
        body = resend_event("email.bounced", email_id, bounced["email"])

        def post(headers: dict[str, str], data: bytes = body) -> requests.Response:
            return requests.post(gateway + ROUTE, data=data, headers=headers, timeout=10)

        def refused(answer: requests.Response, status: int) -> None:
            assert (answer.status_code, answer.headers["Content-Type"]) == (status, PROBLEM), answer.text

        # Forged (another secret), stale (6 minutes old), unsigned, or the body altered: 401.
        refused(post(signed(_secret(), body)), 401)
        refused(post(signed(secret, body, at=datetime.now(UTC) - timedelta(minutes=6))), 401)
        refused(post({"Content-Type": "application/json"}), 401)
        refused(post(signed(secret, body), body.replace(b"General", b"Generic")), 401)
        refused(post({**signed(secret, body), "svix-signature": "v1;not-base64"}), 401)
        assert [s["delivery_status"] for s in flows.get(gateway, account, agreement["id"])["signers"]] \
            == [None, None]
        assert notify_rows(stack, "SELECT count(*) FROM provider_events") == [(0,)]

        headers = signed(secret, body)
        answer = post(headers)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"received": True, "applied": True}
        # The same message again, as captured or signed afresh under its id: a replay, 400.
        refused(post(headers), 400)
        refused(post(signed(secret, body, message_id=headers["svix-id"])), 400)

        shown = wait_until(lambda: (a := flows.get(gateway, account, agreement["id"]))["signers"][0][
            "delivery_status"] == "bounced" and a, 30)
        assert [s["delivery_status"] for s in shown["signers"]] == ["bounced", None]
        assert [s["status"] for s in shown["signers"]] == ["invited", "invited"]  # unchanged by it

        [hook] = wait_until(lambda: receiver.requests(), 30)
        sent = Webhook(endpoint["secret"]).verify(hook.body, hook.headers)
        assert sent["type"] == "signer.bounced"
        assert sent["data"]["id"] == bounced["id"]
        assert sent["data"]["agreement_id"] == agreement["id"]
        assert sent["data"]["delivery_status"] == "bounced"
        assert sent["data"]["email_kind"] == "invitation"
        # The remote server's message (it quotes the address) stays with the provider.
        assert "550" not in hook.body.decode()

        # Another of Resend's events for an email of ours, and one for an email not ours: taken
        # (so Resend stops retrying), nothing changes.
        delivered = resend_event("email.delivered", email_id, bounced["email"])
        assert post(signed(secret, delivered), delivered).json() == {"received": True,
                                                                     "applied": False}
        unknown = resend_event("email.bounced", "not-one-of-ours", "x@example.com")
        assert post(signed(secret, unknown), unknown).json() == {"received": True, "applied": False}
        # One bounce, one event: the refused and ignored reports published nothing.
        assert notify_rows(stack, "SELECT type FROM outbox WHERE type LIKE 'signer.%'") == [
            ("signer.bounced",)]

        # A complaint about the other signer's invitation: signer.complained.
        other_id = wait_until(lambda: sent_to(other["email"]), 30)["id"]
        complaint = resend_event("email.complained", other_id, other["email"])
        assert post(signed(secret, complaint), complaint).json()["applied"] is True
        shown = wait_until(lambda: (a := flows.get(gateway, account, agreement["id"]))["signers"][1][
            "delivery_status"] == "complained" and a, 30)
        wait_until(lambda: len(receiver.requests()) == 2, 30)
        assert json.loads(receiver.requests()[1].body)["type"] == "signer.complained"
