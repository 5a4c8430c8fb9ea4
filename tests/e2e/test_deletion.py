"""Deleting a workspace (issue 15 item 3): confirmed by email, every key dead at once, a saga
across every service, crypto-shredding, and the tombstones that keep receipts verifiable.

The stack runs with PACTRA_DELETION_GRACE_HOURS=0: the purge starts at confirmation."""

import io
import re

import psycopg
import pytest
import requests
from psycopg import sql

from pactra_contracts.services import SERVICES
from pactra_devtools.stack import Stack
from pactra_devtools.testing import auth, emailed_token, signup, wait_until
from pactra_platform.db import session_factory
from pactra_platform.objects import EncryptedObjectStore, ObjectShredded
from pactra_platform.storage import bucket_name, object_store

from . import flows

DELETION_LINK = re.compile(r"https?://[^\s\"<>]*/confirm-deletion/([A-Za-z0-9_-]+)")


def completed_agreement(stack: Stack, gateway: str, account: dict) -> tuple[dict, dict, dict]:
    """(document, agreement, its receipt) of an agreement signed by one signer."""
    document = flows.upload(gateway, account)
    signer = flows.people(1)
    agreement = flows.create(gateway, account, document["id"], signer)
    flows.act(gateway, account, agreement["id"], "send")
    link = flows.invitation_link(stack, signer[0]["email"])
    assert flows.sign(link, signer[0]["name"]).status_code == 200
    flows.wait_for_evidence(gateway, account, agreement["id"])
    receipt = requests.get(f"{gateway}/v1/agreements/{agreement['id']}/receipt", headers=auth(account),
                           timeout=10)
    assert receipt.status_code == 200, receipt.text
    return document, {**agreement, "signer_email": signer[0]["email"]}, receipt.json()


def request_deletion(stack: Stack, gateway: str, account: dict) -> tuple[str, str]:
    """DELETE /v1/workspace: (deletion id, the token mailed to the owner)."""
    name = account["workspace"]["name"]
    wrong = requests.delete(gateway + "/v1/workspace", json={"confirm": name + "x"},
                            headers=auth(account), timeout=10)
    assert wrong.status_code == 422, wrong.text
    asked = requests.delete(gateway + "/v1/workspace", json={"confirm": name}, headers=auth(account),
                            timeout=10)
    assert asked.status_code == 202, asked.text
    body = asked.json()
    assert body["status"] == "awaiting_confirmation"
    assert body["status_url"].endswith("/v1/deletions/" + body["deletion_id"])
    token = emailed_token(stack.mailbox_url, account["user"]["email"], DELETION_LINK)
    return body["deletion_id"], token


def status(gateway: str, deletion_id: str) -> dict:
    response = requests.get(f"{gateway}/v1/deletions/{deletion_id}", timeout=10)  # no key
    assert response.status_code == 200, response.text
    return response.json()


def owner_email(account: dict) -> str:
    return account["user"]["email"]


def database_hits(stack: Stack, needles: list[str]) -> list[str]:
    """Every row of every table of every service's database, each column as text (JSON
    included), searched for ``needles``: "service.table.column" of each hit."""
    hits = []
    for service in SERVICES:
        url = stack.settings.database_url_of(service).replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url) as conn:
            columns = conn.execute(
                "SELECT table_name, column_name FROM information_schema.columns"
                " WHERE table_schema = 'public' AND table_name <> 'alembic_version'").fetchall()
            for table, column in columns:
                for needle in needles:
                    query = sql.SQL("SELECT 1 FROM {} WHERE position(%s in CAST({} AS text)) > 0 LIMIT 1")
                    found = conn.execute(query.format(sql.Identifier(table), sql.Identifier(column)),
                                         (needle,)).fetchone()
                    if found:
                        hits.append(f"{service}.{table}.{column} has {needle}")
    return hits


def bucket_hits(stack: Stack, needles: list[str]) -> list[str]:
    client = object_store(stack.settings)
    hits = []
    for service in SERVICES:
        bucket = bucket_name(stack.settings, service)
        if not client.bucket_exists(bucket):
            continue
        for item in client.list_objects(bucket, recursive=True):
            response = client.get_object(bucket, item.object_name)
            try:
                data = response.read()
            finally:
                response.close()
                response.release_conn()
            for needle in needles:
                if needle in item.object_name or needle.encode() in data:
                    hits.append(f"{bucket}/{item.object_name} has {needle}")
    return hits


def raw_object(stack: Stack, service: str, name: str) -> bytes:
    response = object_store(stack.settings).get_object(bucket_name(stack.settings, service), name)
    try:
        return response.read()
    finally:
        response.close()
        response.release_conn()


def test_a_deleted_workspace_leaves_nothing_but_tombstones(stack: Stack, gateway: str):
    account = signup(gateway, "Grace Hopper")
    document, agreement, receipt = completed_agreement(stack, gateway, account)
    workspace_id = account["workspace"]["id"]
    # A copy of the stored original, as a backup would hold it.
    original_name = f"{workspace_id}/{document['id']}/original.pdf"
    backup = raw_object(stack, "documents", original_name)
    assert workspace_id.encode() not in backup[:200]  # the header names a key id, not the workspace
    second_key = requests.post(gateway + "/v1/api-keys", json={"name": "ci"}, headers=auth(account),
                               timeout=10)
    assert second_key.status_code == 201, second_key.text

    deletion_id, token = request_deletion(stack, gateway, account)
    assert status(gateway, deletion_id)["status"] == "awaiting_confirmation"
    # The page alone does nothing (mail scanners open links); the keys still work.
    assert requests.get(f"{gateway}/confirm-deletion/{token}", timeout=10).status_code == 200
    assert requests.get(gateway + "/v1/workspace", headers=auth(account), timeout=10).status_code == 200

    confirmed = requests.post(gateway + "/v1/deletions/confirm", json={"token": token}, timeout=10)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] in ("running", "completed")
    for key in (account["api_key"]["key"], second_key.json()["key"]):
        refused = requests.get(gateway + "/v1/workspace", headers={"Authorization": f"Bearer {key}"},
                               timeout=10)
        assert refused.status_code == 401, refused.text

    done = wait_until(lambda: (s := status(gateway, deletion_id))["status"] == "completed" and s,
                      timeout=60, interval=0.5, message="the deletion saga completes",
                      describe=lambda: status(gateway, deletion_id))
    assert done["services"] == {service: "purged" for service in SERVICES}
    assert done["completed_at"] is not None
    # Too late to cancel.
    late = requests.post(gateway + "/v1/deletions/cancel", json={"token": token}, timeout=10)
    assert late.status_code == 409, late.text

    # The receipt still verifies, and Pactra says only a tombstone is left.
    verified = requests.post(gateway + "/v1/receipts/verify", json=receipt, timeout=30)
    assert verified.status_code == 200, verified.text
    assert verified.json()["valid"] is True and verified.json()["retained"] == "tombstone"
    assert any("no longer exists" in note for note in verified.json()["notes"])

    needles = [workspace_id, owner_email(account), agreement["signer_email"]]
    # Outbox rows of the saga's own events go once the broker has them: wait for that.
    wait_until(lambda: not database_hits(stack, needles), timeout=30, interval=1.0,
               message="no database row names the workspace or its people",
               describe=lambda: database_hits(stack, needles))
    assert bucket_hits(stack, needles) == []

    # A ciphertext restored from a backup cannot be read: its workspace key is gone.
    client = object_store(stack.settings)
    client.put_object(bucket_name(stack.settings, "documents"), original_name,
                      io.BytesIO(backup), len(backup))
    try:
        store = EncryptedObjectStore(stack.settings, "documents",
                                     session_factory(stack.settings, "documents"))
        with pytest.raises(ObjectShredded):
            b"".join(store.get(original_name))
    finally:
        client.remove_object(bucket_name(stack.settings, "documents"), original_name)


def test_a_deletion_is_cancelled_by_the_owner_before_it_is_confirmed(stack: Stack, gateway: str):
    account = signup(gateway, "Ada Lovelace")
    deletion_id, token = request_deletion(stack, gateway, account)
    cancelled = requests.post(gateway + "/v1/deletions/cancel", json={"token": token}, timeout=10)
    assert cancelled.status_code == 200, cancelled.text
    assert status(gateway, deletion_id)["status"] == "cancelled"
    confirmed = requests.post(gateway + "/v1/deletions/confirm", json={"token": token}, timeout=10)
    assert confirmed.status_code == 409, confirmed.text
    assert requests.get(gateway + "/v1/workspace", headers=auth(account), timeout=10).status_code == 200
    unknown = requests.post(gateway + "/v1/deletions/confirm", json={"token": "x" * 43}, timeout=10)
    assert unknown.status_code == 404
    assert requests.get(gateway + "/v1/deletions/del_nope", timeout=10).status_code == 404


def test_the_saga_completes_once_a_stopped_service_returns(stack: Stack, gateway: str):
    account = signup(gateway, "Barbara Liskov")
    flows.upload(gateway, account)
    stack.stop("documents-worker")
    try:
        deletion_id, token = request_deletion(stack, gateway, account)
        confirmed = requests.post(gateway + "/v1/deletions/confirm", json={"token": token}, timeout=10)
        assert confirmed.status_code == 200, confirmed.text
        waiting = wait_until(
            lambda: (s := status(gateway, deletion_id))["services"]["signing"] == "purged" and s,
            timeout=60, interval=0.5, message="the running services purge")
        assert waiting["status"] == "running" and waiting["services"]["documents"] == "pending"
    finally:
        stack.start("documents-worker")
    wait_until(lambda: status(gateway, deletion_id)["status"] == "completed", timeout=90, interval=0.5,
               message="the saga completes once documents is back",
               describe=lambda: status(gateway, deletion_id))
    assert bucket_hits(stack, [account["workspace"]["id"]]) == []
