"""Encrypted columns and objects under per-workspace keys (issue 15 item 3, crypto-shredding):
values sealed under the master key before are still read, ``pactra-dev rewrap`` moves them to
the workspace's key (a second run changes nothing), and once the workspace is deleted a copy
of a column's ciphertext no longer opens."""

import psycopg
import pytest
import requests

from pactra_devtools.rewrap import rewrap_all
from pactra_devtools.stack import Stack
from pactra_devtools.testing import auth, wait_until
from pactra_platform.crypto import SecretBox
from pactra_platform.db import session_factory
from pactra_platform.erasure import COLUMN_MAGIC, KeyShredded
from pactra_platform.objects import EncryptedObjectStore
from pactra_signing.bootstrap import bootstrap as signing_bootstrap
from pactra_signing.tokens import PURPOSE

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
               if name in ("objects", "signers.token_sealed"))


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
