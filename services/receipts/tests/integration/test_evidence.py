"""Issue 4: evidence anyone can check. A completed agreement's receipt, trail, original and
sealed PDF pass ``pactra-verify``, the verify endpoint, ``pdfsig`` and pyHanko; each kind of
tampering fails the right check; declined receipts and receipts from before a rotation verify."""

import copy
import io
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
import requests
from agreement_events import publish
from documents_stand_in import DocumentsStandIn
from evidence_files import ALL_PASS, fetch, get, new_story, pdfsig, post_verify, pyhanko_status, run_cli
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pypdf import PdfReader

from pactra_devtools.stack import BIN, Stack
from pactra_devtools.testing import signup, wait_until


@pytest.fixture(scope="module")
def account(receipts_stack: Stack) -> dict:
    return signup(receipts_stack.gateway_url, name="Evidence")


def _completed(stack: Stack, account: dict, documents: DocumentsStandIn):
    story = new_story(account, documents)
    story.create_and_send()
    story.view(0)
    story.view(1)
    story.sign(0)
    story.sign(1)
    story.complete()
    publish(stack.settings, story.events)
    return story, fetch(stack, account, story.agreement_id)


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]


def test_completed_evidence_passes_every_verifier(receipts_stack: Stack, account: dict,
                                                  documents: DocumentsStandIn, tmp_path: Path) -> None:
    story, evidence = _completed(receipts_stack, account, documents)
    assert evidence.signed_pdf is not None

    code, checks, output = run_cli(evidence, tmp_path / "cli")
    assert code == 0 and checks == ALL_PASS, output
    answer = post_verify(receipts_stack, evidence)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"valid": True, "verdict": "valid", "receipt_id": evidence.receipt["receipt_id"],
                             "agreement_id": story.agreement_id, "livemode": True,
                             "checks": ALL_PASS, "errors": [],
                             "skipped": {}, "notes": [], "retained": "full"}

    report = pdfsig(evidence.signed_pdf, tmp_path)
    assert "Signature Validation: Signature is Valid." in report, report
    assert "Total document signed" in report and report.count("Signature #") == 1, report
    status = pyhanko_status(evidence.signed_pdf, evidence.chain)
    assert status.intact and status.valid and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE

    # The certificate pages, read back: every signer, email, IP and hash.
    reader = PdfReader(io.BytesIO(evidence.signed_pdf))
    text = " ".join(page.extract_text() for page in reader.pages[4:])
    squeezed = "".join(text.split())
    for signer in evidence.receipt["signers"]:
        for fact in (signer["name"], signer["email"], signer["ip"], signer["consent_at"],
                     signer["signed_at"]):
            assert fact in text, fact
    for fact in (evidence.receipt["document"]["sha256"], evidence.receipt["audit"]["head"],
                 evidence.receipt["receipt_id"], evidence.receipt["signature"]["kid"]):
        assert fact in squeezed, fact
    assert "Trusted timestamp: none" in text and "pactra-verify" in text
    assert evidence.receipt["timestamp"] is None

    # JSON alone: only the signature can be checked; not a receipt at all: 422.
    alone = requests.post(receipts_stack.gateway_url + "/v1/receipts/verify",
                          json=evidence.receipt, timeout=30).json()
    assert alone["valid"] and alone["checks"]["signature"] == "pass" and alone["verdict"] == "valid"
    assert alone["checks"]["pdf_seal"] == "skipped" and alone["skipped"]["pdf_seal"] == "no sealed PDF given"
    # A forgery (a signer renamed, a signature of "AAAA"): the endpoint always checks the
    # signature, so it is invalid, never "valid because nothing else was given".
    forged = copy.deepcopy(evidence.receipt)
    forged["signers"][0]["name"] = "Mallory"
    forged["signature"]["value"] = "AAAA"
    answer = requests.post(receipts_stack.gateway_url + "/v1/receipts/verify", json=forged, timeout=30).json()
    assert (answer["valid"], answer["verdict"], answer["checks"]["signature"]) == (False, "invalid", "fail")
    for body in ({"hello": "world"}, [1, 2]):
        refused = requests.post(receipts_stack.gateway_url + "/v1/receipts/verify", json=body, timeout=30)
        assert refused.status_code == 422 and refused.json()["code"] == "validation_error"
    broken = requests.post(receipts_stack.gateway_url + "/v1/receipts/verify", data=b"{nope",
                           headers={"Content-Type": "application/json"}, timeout=30)
    assert broken.status_code == 422


def test_each_kind_of_tampering_fails_its_check(receipts_stack: Stack, account: dict,
                                                documents: DocumentsStandIn, tmp_path: Path) -> None:
    _, evidence = _completed(receipts_stack, account, documents)
    assert evidence.signed_pdf is not None

    receipt = copy.deepcopy(evidence.receipt)
    receipt["signers"][0]["ip"] = "198.51.100.66"
    audit = copy.deepcopy(evidence.audit)
    signed_entry = next(e for e in audit["entries"] if e["type"] == "signer.signed")
    signed_entry["at"] = signed_entry["at"].replace("T", "T0")[:-1] + "Z"
    # A byte inside the first signed range (the header's binary comment): the PDF still parses.
    tampered_pdf = _flip(evidence.signed_pdf, 11)
    cases = {
        "signature": replace(evidence, receipt=receipt),
        "audit_chain": replace(evidence, audit=audit),
        "document_hash": replace(evidence, original=_flip(evidence.original, len(evidence.original) // 2)),
        "pdf_seal": replace(evidence, signed_pdf=tampered_pdf),
    }
    for check, tampered in cases.items():
        code, checks, output = run_cli(tampered, tmp_path / check)
        assert code == 1 and checks[check] == "fail" and "INVALID" in output, (check, output)
        answer = post_verify(receipts_stack, tampered).json()
        # The endpoint parses no PDF whose hash already fails the receipt: a changed signed.pdf
        # fails sealed_hash there, and its seal is left unread (the CLI, offline, reads it).
        failed = "sealed_hash" if check == "pdf_seal" else check
        assert answer["valid"] is False and answer["checks"][failed] == "fail", (check, answer)
        assert any(error.startswith(failed) for error in answer["errors"])
    # The changed receipt also no longer states what the certificate pages say.
    assert post_verify(receipts_stack, cases["signature"]).json()["checks"]["certificate_text"] == "fail"
    # A changed byte of signed.pdf: its hash no longer matches, and both PDF tools say broken.
    answer = post_verify(receipts_stack, cases["pdf_seal"]).json()
    assert answer["checks"]["sealed_hash"] == "fail"
    assert answer["checks"]["pdf_seal"] == answer["checks"]["certificate_text"] == "skipped"
    assert answer["skipped"]["pdf_seal"].startswith("not read")
    report = pdfsig(tampered_pdf, tmp_path)
    assert "Signature is Valid" not in report and "Digest Mismatch" in report, report
    status = pyhanko_status(tampered_pdf, evidence.chain)
    assert not (status.intact and status.valid)


def test_declined_receipt_verifies(receipts_stack: Stack, account: dict,
                                   documents: DocumentsStandIn, tmp_path: Path) -> None:
    story = new_story(account, documents)
    story.create_and_send()
    story.view(0)
    story.decline(0, "Not this year")
    publish(receipts_stack.settings, story.events)
    evidence = fetch(receipts_stack, account, story.agreement_id)
    assert evidence.receipt["outcome"] == "declined" and evidence.signed_pdf is None
    code, checks, output = run_cli(evidence, tmp_path)
    assert code == 0, output
    assert checks == {**dict.fromkeys(ALL_PASS, "skipped"), "signature": "pass",
                      "audit_chain": "pass", "document_hash": "pass"}
    answer = post_verify(receipts_stack, evidence).json()
    assert answer["valid"] is True and answer["checks"]["signature"] == "pass"


def test_evidence_made_before_a_rotation_still_verifies(receipts_stack: Stack, account: dict,
                                                        documents: DocumentsStandIn,
                                                        tmp_path: Path) -> None:
    story, before = _completed(receipts_stack, account, documents)
    result = subprocess.run([str(BIN / "pactra-receipts"), "rotate"], env=receipts_stack.env,
                            capture_output=True, text=True, timeout=60, check=True)
    assert "active sealing certificate" in result.stdout and "active receipt-signing key" in result.stdout
    _, after = _completed(receipts_stack, account, documents)
    assert after.receipt["signature"]["kid"] != before.receipt["signature"]["kid"]
    assert after.chain.count(b"BEGIN CERTIFICATE") >= before.chain.count(b"BEGIN CERTIFICATE") + 2
    # The old evidence, checked against what is published now (retired keys and chains too).
    old = fetch(receipts_stack, account, story.agreement_id)
    assert old.receipt == before.receipt and old.signed_pdf == before.signed_pdf
    for evidence, name in ((old, "old"), (after, "new")):
        code, checks, output = run_cli(evidence, tmp_path / name)
        assert code == 0 and checks == ALL_PASS, output
        assert post_verify(receipts_stack, evidence).json()["checks"] == ALL_PASS


def test_failed_evidence_is_reported_counted_and_recovers(receipts_stack: Stack, account: dict,
                                                          documents: DocumentsStandIn) -> None:
    story = new_story(account, documents)
    original = documents.documents.pop(story.document_id)[1]
    # A PDF the documents service would never give: bytes that do not match the agreement.
    documents.add(story.workspace_id, story.document_id, b"%PDF-1.4 not the signed document")
    story.create_and_send()
    story.sign(0)
    story.sign(1)
    story.complete()
    publish(receipts_stack.settings, story.events)
    metrics_url = f"http://127.0.0.1:{receipts_stack.settings.port_of('receipts')}/metrics"

    def failed_gauge() -> float:
        for line in requests.get(metrics_url, timeout=10).text.splitlines():
            if line.startswith('pactra_receipts_evidence_agreements{status="failed"}'):
                return float(line.split()[-1])
        return -1

    wait_until(lambda: failed_gauge() >= 1, timeout=30)
    conflict = get(receipts_stack, account, story.agreement_id, "receipt")
    assert conflict.status_code == 409 and "failed" in conflict.json()["detail"]
    assert conflict.json()["code"] == "evidence_failed"
    assert conflict.json()["evidence_reason"].startswith("document_mismatch: ")
    # The audit trail kept the completion: nothing rolled back, nothing dead-lettered.
    types = [e["type"] for e in get(receipts_stack, account, story.agreement_id, "audit").json()["entries"]]
    assert types.count("agreement.completed") == 1

    documents.add(story.workspace_id, story.document_id, original)
    receipt = fetch(receipts_stack, account, story.agreement_id).receipt
    assert receipt["document"]["sealed_sha256"]
    wait_until(lambda: failed_gauge() == 0, timeout=30)
    metrics = requests.get(metrics_url, timeout=10).text
    assert 'pactra_receipts_evidence_agreements{status="issued"}' in metrics
