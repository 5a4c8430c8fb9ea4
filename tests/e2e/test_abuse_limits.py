"""Abuse limits that need settings of their own (issue 16 item 4): signups per client IP and
per email domain, and the daily cap on signers of a workspace in its first 7 days."""

import json
from collections.abc import Iterator

import pytest
import requests

from pactra_devtools.stack import Stack
from pactra_devtools.testing import auth, request_from, unique_email

from . import flows

CAP = 3


@pytest.fixture(scope="module")
def limited() -> Iterator[Stack]:
    """Gateway, documents and signing with small limits (no notify: nobody confirms here)."""
    stack = Stack.create({"PACTRA_SIGNUP_LIMIT_PER_IP": "3/hour",
                          "PACTRA_SIGNUP_LIMIT_PER_DOMAIN": "4/hour",
                          "PACTRA_NEW_WORKSPACE_SIGNERS_PER_DAY": str(CAP)})
    try:
        for name in ("gateway", "gateway-worker", "documents", "documents-worker", "signing",
                     "signing-worker"):
            stack.start(name)
        for service in ("gateway", "documents", "signing"):
            stack.wait_ready(service)
        stack.wait_workers()
        yield stack
    finally:
        stack.close()


def signup_from(stack: Stack, ip: str, email: str) -> tuple[int, dict[str, str], dict]:
    status, headers, body = request_from(
        ip, stack.gateway_url + "/v1/signup", "POST", {"Content-Type": "application/json"},
        json.dumps({"name": "Limit Tester", "email": email, "workspace_name": "W"}).encode())
    return status, headers, json.loads(body)


def test_signups_are_limited_per_client_ip(limited: Stack):
    answers = [signup_from(limited, "127.0.0.21", f"user@domain{i}.example.org") for i in range(4)]
    assert [status for status, _, _ in answers] == [201, 201, 201, 429]
    _, headers, problem = answers[-1]
    assert problem["code"] == "rate_limited" and 1 <= int(headers["Retry-After"]) <= 3600
    # Another address has its own allowance.
    assert signup_from(limited, "127.0.0.22", "user@elsewhere.example.org")[0] == 201


def test_signups_are_limited_per_email_domain(limited: Stack):
    statuses = [signup_from(limited, f"127.0.0.{31 + i}", f"user{i}@crowded.example.net")[0]
                for i in range(5)]
    assert statuses == [201, 201, 201, 201, 429]
    # The domain, not the address: another domain from the same addresses still signs up.
    assert signup_from(limited, "127.0.0.31", "user@quiet.example.net")[0] == 201


def test_a_new_workspace_invites_at_most_the_daily_cap(limited: Stack):
    gateway = limited.gateway_url
    email = unique_email("capped")
    status, _, account = signup_from(limited, "127.0.0.41", email)
    assert status == 201, account
    document = flows.upload(gateway, account)
    # Unverified, the owner may send only to themselves: each agreement invites them once.
    owner = [{"name": "Limit Tester", "email": email}]
    drafts = [flows.create(gateway, account, document["id"], owner) for _ in range(CAP + 1)]
    for draft in drafts[:CAP]:
        assert flows.act(gateway, account, draft["id"], "send")["status"] == "sent"
    refused = requests.post(f"{gateway}/v1/agreements/{drafts[-1]['id']}/send", headers=auth(account),
                            timeout=30)
    assert refused.status_code == 429 and refused.json()["code"] == "rate_limited", refused.text
    assert 82_000 <= int(refused.headers["Retry-After"]) <= 86_400
    assert flows.get(gateway, account, drafts[-1]["id"])["status"] == "draft"
