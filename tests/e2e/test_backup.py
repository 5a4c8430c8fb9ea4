"""``make backup`` / ``make restore`` (pactra_devtools.backup) on a running platform: a completed
agreement is backed up, every database and bucket wiped, the backup restored, and then the
agreement's documents download as they were and its receipt verifies with pactra-verify."""

import contextlib
import io
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from pactra_devtools.backup import backup, restore
from pactra_devtools.stack import Stack
from pactra_devtools.testing import auth, signup, wait_until
from pactra_platform.settings import SERVICES
from pactra_platform.storage import bucket_name, object_store
from pactra_verify.cli import main as pactra_verify

from . import flows


@pytest.fixture(scope="module")
def own_stack() -> Stack:
    """Its own platform: wiping the session's would pull it from under the other tests."""
    stack = Stack.create()
    try:
        stack.start_all()
        yield stack
    finally:
        stack.close()


def wipe(stack: Stack) -> None:
    """What a lost machine leaves: no database, no bucket."""
    admin = create_engine(stack.settings.database_url_of("gateway").rsplit("/", 1)[0] + "/postgres",
                          isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for service in SERVICES:
                conn.execute(text(
                    f'DROP DATABASE IF EXISTS "{stack.settings.database_name(service)}" WITH (FORCE)'))
    finally:
        admin.dispose()
    client = object_store(stack.settings)
    for service in SERVICES:
        bucket = bucket_name(stack.settings, service)
        if client.bucket_exists(bucket):
            for item in list(client.list_objects(bucket, recursive=True)):
                client.remove_object(bucket, item.object_name)
            client.remove_bucket(bucket)


def download(stack: Stack, account: dict, path: str) -> bytes:
    answer = requests.get(stack.gateway_url + path, headers=auth(account), timeout=30)
    assert answer.status_code == 200, (path, answer.status_code, answer.text[:500])
    return answer.content


def test_a_backup_restored_after_a_wipe_brings_back_documents_and_receipts(own_stack: Stack,
                                                                           tmp_path: Path) -> None:
    stack = own_stack
    gateway = stack.gateway_url
    account, document, agreement, link = flows.sent_to_one_signer(stack, gateway)
    assert flows.sign(link, "Grace Hopper").status_code == 200
    flows.wait_for_evidence(gateway, account, agreement["id"])
    paths = {"document": f"/v1/documents/{document['id']}/content",
             "signed_pdf": f"/v1/agreements/{agreement['id']}/signed.pdf",
             "receipt": f"/v1/agreements/{agreement['id']}/receipt",
             "audit": f"/v1/agreements/{agreement['id']}/audit"}
    before = {name: download(stack, account, path) for name, path in paths.items()}

    manifest = backup(stack.settings, tmp_path / "backup")
    assert set(manifest["databases"]) == set(SERVICES)
    assert sum(len(b["objects"]) for b in manifest["buckets"].values()) >= 2  # original + sealed

    wipe(stack)
    gone = requests.get(gateway + paths["receipt"], headers=auth(account), timeout=30)
    assert gone.status_code >= 400  # the API key itself is gone with the gateway's database

    restore(stack.settings, tmp_path / "backup")

    # The running processes reconnect by themselves; the same key works again.
    after = wait_until(lambda: _all(stack, account, paths), timeout=60)
    assert after == before
    files = {name: tmp_path / name for name in before}
    for name, content in after.items():
        files[name].write_bytes(content)
    jwks = tmp_path / "jwks.json"
    jwks.write_bytes(requests.get(gateway + "/v1/receipts/keys", timeout=30).content)
    chain = tmp_path / "chain.pem"
    chain.write_bytes(requests.get(gateway + "/v1/receipts/certificates", timeout=30).content)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = pactra_verify(["--receipt", str(files["receipt"]), "--jwks", str(jwks),
                              "--audit", str(files["audit"]), "--document", str(files["document"]),
                              "--signed-pdf", str(files["signed_pdf"]), "--chain", str(chain)])
    assert code == 0 and out.getvalue().strip().splitlines()[-1] == "VALID", out.getvalue()

    # And the platform goes on: a new workspace signs up after the restore.
    assert signup(gateway)["api_key"]["key"]


def _all(stack: Stack, account: dict, paths: dict[str, str]) -> dict[str, bytes] | None:
    found = {}
    for name, path in paths.items():
        answer = requests.get(stack.gateway_url + path, headers=auth(account), timeout=30)
        if answer.status_code != 200:
            return None
        found[name] = answer.content
    return found
