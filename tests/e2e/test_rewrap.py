"""Encrypted columns and objects under per-workspace keys (issue 15 item 3, crypto-shredding):
values sealed under the master key before are still read, ``pactra-dev rewrap`` moves them to
the workspace's key (a second run changes nothing), and once the workspace is deleted a copy
of a column's ciphertext no longer opens."""

import psycopg
import pytest
import requests
from standardwebhooks.webhooks import Webhook

from pactra_devtools.rewrap import rewrap_all
from pactra_devtools.stack import Stack
from pactra_devtools.testing import auth, signup, wait_until
from pactra_devtools.webhook_receiver import running_receiver
from pactra_gateway.adapters.idempotency import PURPOSE as IDEMPOTENCY_PURPOSE
from pactra_gateway.adapters.idempotency import IdempotencyStore, body_cipher
from pactra_notify.adapters.webhook_secrets import SECRET_PURPOSE, open_secret
from pactra_platform.crypto import SecretBox
from pactra_platform.db import session_factory
from pactra_platform.erasure import COLUMN_MAGIC, KeyShredded
from pactra_platform.objects import EncryptedObjectStore
from pactra_signing.adapters.tokens import PURPOSE
from pactra_signing.bootstrap import bootstrap as signing_bootstrap

from . import flows
from .test_deletion import raw_object, request_deletion, status


def _signing_db(stack: Stack) -> psycopg.Connection:
    url = stack.settings.database_url_of("signing").replace("postgresql+psycopg://", "postgresql://")
    return psycopg.connect(url, autocommit=True)


def sealed_token(stack: Stack, signer_id: str) -> bytes:
    with _signing_db(stack) as conn:
        row = conn.execute("SELECT token_sealed FROM signers WHERE id = %s", (signer_id,)).fetchone()
        return bytes(row[0])


def moved(counts: dict[str, dict[str, int]]) -> int:
    """Values re-sealed by a run (objects left by deleted workspaces are not moves)."""
    return sum(n for service in counts.values() for name, n in service.items()
               if name in ("objects", "signers.token_sealed", "webhook_endpoints.secret_sealed",
                           "webhook_endpoints.previous_secret_sealed",
                           "idempotency_records.response_body"))


def test_rewrap_moves_old_values_once_and_deletion_shreds_them(stack: Stack, gateway: str):
    account, _document, agreement, link = flows.sent_to_one_signer(stack, gateway)
    workspace_id = account["workspace"]["id"]
    signer_id = agreement["signers"][0]["id"]
    vault = signing_bootstrap(stack.settings).vault
    token = link.rsplit("/", 1)[1]
    current = sealed_token(stack, signer_id)
    assert current.startswith(COLUMN_MAGIC) and vault.open(current, signer_id) == token

    # Values as they were before per-workspace keys: a token under the master key ...
    legacy = SecretBox(stack.settings.master_key, PURPOSE).seal(token.encode(), signer_id.encode())
    with _signing_db(stack) as conn:
        conn.execute("UPDATE signers SET token_sealed = %s WHERE id = %s", (legacy, signer_id))
    assert vault.open(sealed_token(stack, signer_id), signer_id) == token  # still read
    # ... and an object whose key the master key wraps.
    store = EncryptedObjectStore(stack.settings, "documents", session_factory(stack.settings, "documents"))
    old_object = f"{workspace_id}/legacy/note.txt"
    store.put(old_object, [b"written before workspace keys"])
    assert raw_object(stack, "documents", old_object)[:4] == b"PTO1"  # master-key format

    first = rewrap_all(stack.settings)
    assert first["signing"]["signers.token_sealed"] >= 1 and first["documents"]["objects"] >= 1, first
    rewrapped = sealed_token(stack, signer_id)
    assert rewrapped.startswith(COLUMN_MAGIC) and vault.open(rewrapped, signer_id) == token
    assert raw_object(stack, "documents", old_object)[:4] == b"PTO2"  # workspace-key format
    assert b"".join(store.get(old_object)) == b"written before workspace keys"
    second = rewrap_all(stack.settings)
    assert moved(second) == 0, second
    assert sealed_token(stack, signer_id) == rewrapped  # untouched by the second run
    # The service reads the re-wrapped token: the reminder resends the same link.
    reminded = requests.post(f"{gateway}/v1/agreements/{agreement['id']}/remind", headers=auth(account),
                             timeout=30)
    assert reminded.status_code == 200, reminded.text

    deletion_id, deletion_token = request_deletion(stack, gateway, account)
    confirmed = requests.post(gateway + "/v1/deletions/confirm", json={"token": deletion_token}, timeout=10)
    assert confirmed.status_code == 200, confirmed.text
    wait_until(lambda: status(gateway, deletion_id)["status"] == "completed", timeout=60, interval=0.5,
               message="the deletion saga completes")
    # A copy of the column left in a backup: its workspace key is gone.
    with pytest.raises(KeyShredded):
        vault.open(rewrapped, signer_id)


def _db(stack: Stack, service: str) -> psycopg.Connection:
    url = stack.settings.database_url_of(service).replace("postgresql+psycopg://", "postgresql://")
    return psycopg.connect(url, autocommit=True)


def _column(stack: Stack, service: str, query: str, key: object) -> bytes:
    with _db(stack, service) as conn:
        return bytes(conn.execute(query, (key,)).fetchone()[0])


ENDPOINT_SQL = "SELECT secret_sealed FROM webhook_endpoints WHERE id = %s"
BODY_SQL = "SELECT response_body FROM idempotency_records WHERE key = %s"


def test_webhook_secrets_and_idempotent_replies_move_to_the_workspace_key(stack: Stack, gateway: str):
    account = signup(gateway)
    settings = stack.settings
    key = f"rewrap-{account['workspace']['id']}"
    with running_receiver() as receiver:
        create = lambda: requests.post(  # noqa: E731 - the same request, replayed below
            gateway + "/v1/webhooks", headers={**auth(account), "Idempotency-Key": key},
            json={"url": receiver.url, "events": ["*"]}, timeout=10)
        first = create()
        assert first.status_code == 201, first.text
        endpoint = first.json()
        secret_now = _column(stack, "notify", ENDPOINT_SQL, endpoint["id"])
        body_now = _column(stack, "gateway", BODY_SQL, key)
        assert secret_now.startswith(COLUMN_MAGIC) and body_now.startswith(COLUMN_MAGIC)
        with _db(stack, "gateway") as conn:
            record_id = conn.execute("SELECT id FROM idempotency_records WHERE key = %s",
                                     (key,)).fetchone()[0]

        # Both as they were sealed before per-workspace keys: under the master key directly.
        legacy_secret = SecretBox(settings.master_key, SECRET_PURPOSE).seal(
            endpoint["secret"].encode(), endpoint["id"].encode())
        legacy_body = SecretBox(settings.master_key, IDEMPOTENCY_PURPOSE).seal(
            first.content, IdempotencyStore.aad(record_id))
        with _db(stack, "notify") as conn:
            conn.execute("UPDATE webhook_endpoints SET secret_sealed = %s WHERE id = %s",
                         (legacy_secret, endpoint["id"]))
        with _db(stack, "gateway") as conn:
            conn.execute("UPDATE idempotency_records SET response_body = %s WHERE id = %s",
                         (legacy_body, record_id))
        # The services still read them: the replay is the first response, and a ping is
        # signed with the endpoint's secret.
        replay = create()
        assert replay.status_code == 201 and replay.content == first.content, replay.text
        sent = requests.post(gateway + f"/v1/webhooks/{endpoint['id']}/test", headers=auth(account),
                             timeout=10)
        assert sent.status_code == 202, sent.text
        wait_until(lambda: receiver.requests(), timeout=30, interval=0.2, message="the ping arrives")
        Webhook(endpoint["secret"]).verify(receiver.requests()[0].body, receiver.requests()[0].headers)

    counts = rewrap_all(settings)
    assert counts["notify"]["webhook_endpoints.secret_sealed"] >= 1, counts
    assert counts["gateway"]["idempotency_records.response_body"] >= 1, counts
    secret_new = _column(stack, "notify", ENDPOINT_SQL, endpoint["id"])
    body_new = _column(stack, "gateway", BODY_SQL, key)
    assert secret_new.startswith(COLUMN_MAGIC) and body_new.startswith(COLUMN_MAGIC)
    assert open_secret(settings, endpoint["id"], secret_new) == endpoint["secret"]
    replay = create()
    assert replay.status_code == 201 and replay.content == first.content, replay.text
    again = rewrap_all(settings)
    assert moved(again) == 0, again
    assert _column(stack, "notify", ENDPOINT_SQL, endpoint["id"]) == secret_new
    assert _column(stack, "gateway", BODY_SQL, key) == body_new

    deletion_id, deletion_token = request_deletion(stack, gateway, account)
    confirmed = requests.post(gateway + "/v1/deletions/confirm", json={"token": deletion_token}, timeout=10)
    assert confirmed.status_code == 200, confirmed.text
    wait_until(lambda: status(gateway, deletion_id)["status"] == "completed", timeout=60, interval=0.5,
               message="the deletion saga completes")
    # Copies left in a backup: their workspace keys are gone in both services.
    with pytest.raises(KeyShredded):
        open_secret(settings, endpoint["id"], secret_new)
    with pytest.raises(KeyShredded):
        body_cipher(settings.master_key, session_factory(settings, "gateway")).open(
            body_new, IdempotencyStore.aad(record_id))
