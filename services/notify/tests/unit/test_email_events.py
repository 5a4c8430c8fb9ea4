"""Checking Resend's (Svix) signatures: what passes and what is a 401 problem, never a 500."""

import base64
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook

from pactra_notify.entrypoints.email_events import verified_id
from pactra_platform.problems import ProblemError

SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
BODY = b'{"type":"email.bounced","data":{"email_id":"4ef9a417"}}'


def headers(at: datetime | None = None, body: bytes = BODY, secret: str = SECRET) -> dict[str, str]:
    at = at or datetime.now(UTC)
    return {"Svix-Id": "msg_1", "Svix-Timestamp": str(int(at.timestamp())),
            "Svix-Signature": Webhook(secret).sign("msg_1", at, body.decode())}


def test_svix_headers_verify_under_any_case():
    assert verified_id(SECRET, BODY, headers()) == "msg_1"
    # Several signatures (Svix during a rotation): one matching is enough.
    both = headers()
    other = headers(secret="whsec_" + "A" * 32)["Svix-Signature"]
    both["Svix-Signature"] = f"{other} {both['Svix-Signature']}"
    assert verified_id(SECRET, BODY, both) == "msg_1"


@pytest.mark.parametrize("change", [
    lambda h: h.update({"Svix-Signature": headers(secret="whsec_" + "B" * 32)["Svix-Signature"]}),
    lambda h: h.update(headers(at=datetime.now(UTC) - timedelta(minutes=5, seconds=30))),
    lambda h: h.update(headers(at=datetime.now(UTC) + timedelta(minutes=5, seconds=30))),
    lambda h: h.update({"Svix-Timestamp": "soon"}),
    lambda h: h.update({"Svix-Signature": "v1"}),
    lambda h: h.update({"Svix-Signature": "v1,%%%"}),
    lambda h: h.update({"Svix-Signature": "v1,a,b"}),
    lambda h: h.pop("Svix-Id"),
    # The Standard Webhooks names are not Resend's: they are not read.
    lambda h: h.update({"webhook-id": h.pop("Svix-Id")}),
])
def test_anything_else_is_a_401(change):
    sent = headers()
    change(sent)
    with pytest.raises(ProblemError) as refused:
        verified_id(SECRET, BODY, sent)
    assert refused.value.problem.status == 401


def test_a_body_that_is_not_utf8_is_a_401():
    with pytest.raises(ProblemError) as refused:
        verified_id(SECRET, b"\xff\xfe", headers())
    assert refused.value.problem.status == 401
