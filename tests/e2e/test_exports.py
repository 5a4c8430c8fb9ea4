"""A workspace's export through the whole platform (issue 15, item 2): documents, completed,
declined and voided agreements, an analysis and a webhook endpoint with a delivery. The
archive holds exactly those items, each file is what the API serves, ``pactra-verify
--export`` passes offline, and one changed byte anywhere makes it fail, naming the file."""

import hashlib
import io
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import requests

from pactra_devtools.testing import auth, signup, wait_until
from pactra_devtools.webhook_receiver import running_receiver
from pactra_verify.export import verify_export

from . import flows

VERIFY = Path(sys.executable).with_name("pactra-verify")


def _get(gateway: str, account: dict, path: str) -> requests.Response:
    answer = requests.get(gateway + path, headers=auth(account), timeout=60)
    assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
    return answer


def _ended(gateway, account, document_id, how: str) -> str:
    signer = flows.people(1)
    agreement = flows.create(gateway, account, document_id, signer)
    flows.act(gateway, account, agreement["id"], "send")
    if how == "voided":
        flows.act(gateway, account, agreement["id"], "void", {"reason": "Superseded"})
    else:
        signer_id = agreement["signers"][0]["id"]
        link = requests.post(f"{gateway}/v1/agreements/{agreement['id']}/signers/{signer_id}/link",
                             headers=auth(account), timeout=30).json()["url"]
        if how == "completed":
            assert flows.sign(link, signer[0]["name"]).status_code == 200
        else:
            assert requests.post(link + "/decline", json={"reason": "No"}, timeout=30).status_code == 200
    flows.wait_for_evidence(gateway, account, agreement["id"])
    return agreement["id"]


@pytest.fixture(scope="module")
def exported(stack, tmp_path_factory):
    """The workspace, its export's record, the downloaded zip and the unzipped folder."""
    gateway = stack.gateway_url
    account = signup(gateway)
    used = flows.upload(gateway, account)
    spare = flows.upload(gateway, account)
    analysis = f"/v1/documents/{spare['id']}/analysis"
    assert requests.post(gateway + analysis, headers=auth(account), timeout=60).status_code in (200, 202)
    wait_until(lambda: _get(gateway, account, analysis).json()["status"] == "ready", 60)
    agreements = {how: _ended(gateway, account, used["id"], how)
                  for how in ("completed", "declined", "voided")}
    with running_receiver() as receiver:
        endpoint = requests.post(gateway + "/v1/webhooks", headers=auth(account), timeout=30,
                                 json={"url": receiver.url, "events": ["ping"]}).json()
        ping = requests.post(f"{gateway}/v1/webhooks/{endpoint['id']}/test", headers=auth(account),
                             timeout=30).json()
        wait_until(lambda: _get(gateway, account, f"/v1/webhooks/{endpoint['id']}/deliveries")
                   .json()["data"][0]["status"] == "delivered", 30)

    started = requests.post(gateway + "/v1/exports", headers=auth(account), timeout=30)
    assert started.status_code == 202, started.text
    assert started.json()["status"] == "pending" and started.json()["id"].startswith("exp_")
    export_id = started.json()["id"]
    shown = wait_until(lambda: (e := _get(gateway, account, f"/v1/exports/{export_id}").json())
                       ["status"] in ("ready", "failed") and e, 180)
    assert shown["status"] == "ready", shown
    assert shown["parts_done"] == shown["parts_total"] == 6
    # No API key: the link's token is the credential.
    download = requests.get(shown["download_url"], timeout=120)
    assert download.status_code == 200, download.text[:300]
    data = download.content
    assert hashlib.sha256(data).hexdigest() == shown["sha256"] and len(data) == shown["size"]
    folder = tmp_path_factory.mktemp("export")
    zipfile.ZipFile(io.BytesIO(data)).extractall(folder)
    return {"gateway": gateway, "account": account, "export": shown, "folder": folder,
            "documents": {"used": used["id"], "spare": spare["id"]}, "agreements": agreements,
            "endpoint": endpoint, "ping": ping, "zip": data, "stack": stack}


def test_the_archive_holds_exactly_the_workspaces_items(exported):
    folder, gateway, account = exported["folder"], exported["gateway"], exported["account"]
    expected = {"README.txt", "manifest.json", "account.json", "usage.json", "keys/jwks.json",
                "keys/certificates.pem", "webhooks.json", "deliveries.json"}
    for document_id in exported["documents"].values():
        expected |= {f"documents/{document_id}/{name}"
                     for name in ("document.pdf", "metadata.json", "text.txt")}
    expected.add(f"documents/{exported['documents']['spare']}/analysis.json")
    for agreement_id in exported["agreements"].values():
        expected |= {f"agreements/{agreement_id}/{name}"
                     for name in ("agreement.json", "audit.json", "receipt.json")}
        for pdf in ("signed.pdf", "certificate.pdf"):
            answer = requests.get(f"{gateway}/v1/agreements/{agreement_id}/{pdf}", headers=auth(account),
                                  timeout=60)
            if answer.status_code == 200:
                expected.add(f"agreements/{agreement_id}/{pdf}")
    assert f"agreements/{exported['agreements']['completed']}/signed.pdf" in expected
    found = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert found == expected
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["version"] == 1
    assert manifest["workspace_id"] == _get(gateway, account, "/v1/workspace").json()["id"]
    assert {f["path"] for f in manifest["files"]} == expected - {"manifest.json"}
    webhooks = json.loads((folder / "webhooks.json").read_text())
    assert [w["id"] for w in webhooks] == [exported["endpoint"]["id"]]
    assert "secret" not in json.dumps(webhooks) and "whsec_" not in json.dumps(webhooks)


def test_each_file_matches_a_fresh_download_through_the_api(exported):
    folder, gateway, account = exported["folder"], exported["gateway"], exported["account"]

    def same_json(path: str, api_path: str) -> None:
        assert json.loads((folder / path).read_text()) == _get(gateway, account, api_path).json(), path

    def same_bytes(path: str, api_path: str) -> None:
        assert (folder / path).read_bytes() == _get(gateway, account, api_path).content, path

    for document_id in exported["documents"].values():
        same_json(f"documents/{document_id}/metadata.json", f"/v1/documents/{document_id}")
        same_bytes(f"documents/{document_id}/document.pdf", f"/v1/documents/{document_id}/content")
        same_bytes(f"documents/{document_id}/text.txt", f"/v1/documents/{document_id}/text")
    spare = exported["documents"]["spare"]
    same_json(f"documents/{spare}/analysis.json", f"/v1/documents/{spare}/analysis")
    for agreement_id in exported["agreements"].values():
        base = f"agreements/{agreement_id}"
        same_json(f"{base}/agreement.json", f"/v1/agreements/{agreement_id}")
        same_json(f"{base}/audit.json", f"/v1/agreements/{agreement_id}/audit")
        same_json(f"{base}/receipt.json", f"/v1/agreements/{agreement_id}/receipt")
        for pdf in ("signed.pdf", "certificate.pdf"):
            if (folder / base / pdf).exists():
                same_bytes(f"{base}/{pdf}", f"/v1/agreements/{agreement_id}/{pdf}")
    same_json("keys/jwks.json", "/v1/receipts/keys")
    same_bytes("keys/certificates.pem", "/v1/receipts/certificates")
    same_json("account.json", "/v1/account")
    endpoint_id = exported["endpoint"]["id"]
    assert json.loads((folder / "webhooks.json").read_text()) == [
        _get(gateway, account, f"/v1/webhooks/{endpoint_id}").json()]
    log = _get(gateway, account, f"/v1/webhooks/{endpoint_id}/deliveries").json()["data"]
    assert json.loads((folder / "deliveries.json").read_text()) == [
        {"endpoint_id": endpoint_id, **delivery} for delivery in log]
    # Usage counts API requests, which this test keeps making: the same report, earlier.
    usage, now = json.loads((folder / "usage.json").read_text()), _get(gateway, account, "/v1/usage").json()
    assert (usage["plan"], usage["period"]) == (now["plan"], now["period"])
    assert set(usage["metrics"]) == set(now["metrics"])
    assert usage["metrics"]["agreements_sent"] == now["metrics"]["agreements_sent"]


def test_pactra_verify_passes_offline(exported):
    result = subprocess.run([str(VERIFY), "--export", str(exported["folder"])], capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("VALID")
    assert "3 receipts" in result.stdout and "1 sealed PDFs" in result.stdout


def test_one_changed_byte_anywhere_fails_and_says_where(exported, tmp_path):
    folder = exported["folder"]
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    for relative in files:
        copy = tmp_path / relative.replace("/", "_")
        shutil.copytree(folder, copy)
        target = copy / relative
        data = bytearray(target.read_bytes())
        data[len(data) // 2] ^= 0x01
        target.write_bytes(bytes(data))
        report = verify_export(copy)
        assert not report.valid, relative
        # It names the file; a change in the manifest may show as the entry it garbled.
        assert any(failure.startswith(relative) or (relative == "manifest.json" and relative in failure)
                   for failure in report.failures), (relative, report.failures)
        shutil.rmtree(copy)
    # The command says it too.
    copy = tmp_path / "cli"
    shutil.copytree(folder, copy)
    receipt = copy / "agreements" / exported["agreements"]["completed"] / "receipt.json"
    receipt.write_bytes(receipt.read_bytes().replace(b'"completed"', b'"c0mpleted"', 1))
    result = subprocess.run([str(VERIFY), "--export", str(copy)], capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 1, result.stdout
    assert f"agreements/{exported['agreements']['completed']}/receipt.json" in result.stdout
    assert result.stdout.strip().endswith("INVALID")


def test_the_download_link_needs_its_token_and_stays_out_of_logs(exported):
    gateway, export = exported["gateway"], exported["export"]
    wrong = requests.get(gateway + "/v1/exports/download/" + "A" * 43, timeout=30)
    assert wrong.status_code == 404 and wrong.headers["Content-Type"] == "application/problem+json"
    token = export["download_url"].rsplit("/", 1)[1]
    assert len(token) == 43
    listed = _get(gateway, exported["account"], "/v1/exports").json()["data"]
    assert [e["id"] for e in listed] == [export["id"]] and listed[0]["download_url"]
    # Another workspace sees nothing of it.
    other = signup(gateway)
    hidden = requests.get(f"{gateway}/v1/exports/{export['id']}", headers=auth(other), timeout=30)
    assert hidden.status_code == 404
    stack = exported["stack"]
    for name in ("gateway", "gateway-worker"):
        assert token not in stack.log(name), name


def test_the_stored_archive_is_sealed_under_the_workspaces_key(exported):
    """Crypto-shredding: the archive in the bucket (kept 7 days) names the workspace's data
    key, not the master key, and is not the zip in the clear; the download decrypts it."""
    from pactra_platform.exports import archive_object

    from .test_deletion import raw_object

    stored = raw_object(exported["stack"], "exports", archive_object(exported["export"]["id"]))
    assert stored[:4] == b"PTO2", stored[:4]  # the workspace-key format (PTO1: the master key's)
    assert b"manifest.json" not in stored and exported["zip"][:4] not in stored[:64]
