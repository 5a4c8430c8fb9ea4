"""pactra-verify against evidence made here with public libraries only."""

import base64
import copy
import hashlib
import json

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pactra_verify import verify
from pactra_verify.checks import NotAReceipt
from pactra_verify.cli import main

DOCUMENT = b"%PDF-1.4 the agreement"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _entry(seq, prev, kind):
    entry = {"seq": seq, "type": kind, "at": "2026-11-28T12:00:00.000Z",
             "actor": {"kind": "system", "id": "system", "ip": None, "user_agent": None},
             "data": {"agreement_id": "agr_1"}, "prev": prev}
    entry["hash"] = hashlib.sha256(rfc8785.dumps(entry)).hexdigest()
    return entry


@pytest.fixture
def evidence():
    key = Ed25519PrivateKey.generate()
    entries = []
    for seq, kind in enumerate(["agreement.created", "agreement.sent", "agreement.voided"]):
        entries.append(_entry(seq, entries[-1]["hash"] if entries else "0" * 64, kind))
    receipt = {
        "receipt_version": 1, "receipt_id": "rcpt_1", "agreement_id": "agr_1", "workspace_id": "ws_1",
        "title": "NDA", "outcome": "voided", "issued_at": "2026-11-28T12:00:01.000Z",
        "document": {"sha256": hashlib.sha256(DOCUMENT).hexdigest(), "pages": 1, "sealed_sha256": None},
        "signers": [], "audit": {"entries": 3, "head": entries[2]["hash"]}, "timestamp": None,
    }
    receipt["signature"] = {"alg": "EdDSA", "crv": "Ed25519", "kid": "k1",
                            "value": _b64(key.sign(rfc8785.dumps(receipt)))}
    raw = key.public_key().public_bytes_raw()
    jwks = {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": _b64(raw), "kid": "k1", "alg": "EdDSA",
                      "use": "sig", "status": "active"}]}
    return receipt, jwks, {"agreement_id": "agr_1", "entries": entries}


def test_intact_evidence_passes(evidence):
    receipt, jwks, audit = evidence
    report = verify(receipt, jwks, audit, DOCUMENT)
    assert report.valid and report.errors == []
    assert [report.checks[c] for c in ("signature", "audit_chain", "document_hash")] == ["pass"] * 3
    assert report.checks["pdf_seal"] == "skipped"


def test_each_kind_of_tampering_fails_its_check(evidence):
    receipt, jwks, audit = evidence
    changed = copy.deepcopy(receipt)
    changed["title"] = "Another NDA"
    assert verify(changed, jwks).checks["signature"] == "fail"
    edited = copy.deepcopy(audit)
    edited["entries"][1]["data"]["agreement_id"] = "agr_2"
    assert verify(receipt, jwks, edited).checks["audit_chain"] == "fail"
    short = {"agreement_id": "agr_1", "entries": audit["entries"][:2]}
    assert verify(receipt, jwks, short).checks["audit_chain"] == "fail"
    assert verify(receipt, jwks, audit, DOCUMENT + b" ").checks["document_hash"] == "fail"
    foreign = {"keys": [{**jwks["keys"][0], "kid": "other"}]}
    assert verify(receipt, foreign).checks["signature"] == "fail"


def test_not_a_receipt():
    with pytest.raises(NotAReceipt):
        verify({"hello": "world"})


def test_the_command_exits_non_zero_on_failure(tmp_path, evidence, capsys):
    receipt, jwks, audit = evidence
    for name, value in [("r.json", receipt), ("j.json", jwks), ("a.json", audit)]:
        (tmp_path / name).write_text(json.dumps(value))
    (tmp_path / "doc.pdf").write_bytes(DOCUMENT)
    args = ["--receipt", str(tmp_path / "r.json"), "--jwks", str(tmp_path / "j.json"),
            "--audit", str(tmp_path / "a.json"), "--document", str(tmp_path / "doc.pdf")]
    assert main(args) == 0
    assert "VALID" in capsys.readouterr().out
    (tmp_path / "doc.pdf").write_bytes(DOCUMENT + b"!")
    assert main(args) == 1
    assert "FAIL     document_hash" in capsys.readouterr().out
