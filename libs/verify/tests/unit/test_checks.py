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


def _forged(receipt):
    forged = copy.deepcopy(receipt)
    forged["title"] = "Renamed NDA"  # what the forger wants the receipt to say
    forged["signers"] = [{"signer_id": "sgr_x", "name": "Mallory", "email": "m@example.com"}]
    forged["signature"] = {**forged["signature"], "value": "AAAA"}
    return forged


def _write(tmp_path, **files):
    paths = {}
    for name, value in files.items():
        path = tmp_path / name
        if isinstance(value, bytes):
            path.write_bytes(value)
        else:
            path.write_text(json.dumps(value))
        paths[name] = str(path)
    return paths


def test_a_forged_receipt_checked_against_no_key_is_not_verified(tmp_path, evidence, capsys):
    receipt, jwks, _ = evidence
    paths = _write(tmp_path, **{"forged.json": _forged(receipt), "nda.pdf": DOCUMENT, "j.json": jwks})
    assert main(["--receipt", paths["forged.json"], "--document", paths["nda.pdf"]]) == 2
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[-1].startswith("NOT VERIFIED") and "\nVALID" not in out
    assert "PASS     document_hash" in out
    # Every check that did not run is listed with why.
    for check in ("signature", "audit_chain", "sealed_hash", "pdf_seal", "certificate_text"):
        line = next(line for line in lines if line.split()[1:2] == [check])
        assert line.startswith("SKIPPED") and "(skipped: " in line, line
    # Given the published keys, the same forgery is INVALID.
    assert main(["--receipt", paths["forged.json"], "--document", paths["nda.pdf"],
                 "--jwks", paths["j.json"]]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == "INVALID"


def test_pinned_trusted_keys(tmp_path, evidence, capsys):
    receipt, jwks, _ = evidence
    swapped_key = Ed25519PrivateKey.generate()
    # A server (or a file) handing out its own key under the real key's id.
    unsigned = {k: v for k, v in _forged(receipt).items() if k != "signature"}
    resigned = {**unsigned, "signature": {**receipt["signature"],
                                          "value": _b64(swapped_key.sign(rfc8785.dumps(unsigned)))}}
    swapped = {"keys": [{**jwks["keys"][0], "x": _b64(swapped_key.public_key().public_bytes_raw())}]}
    paths = _write(tmp_path, **{"r.json": receipt, "pinned.json": jwks, "swapped.json": swapped,
                                "resigned.json": resigned})
    assert main(["--receipt", paths["r.json"], "--trusted-keys", paths["pinned.json"]]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "VALID"
    # Against the swapped keys alone the re-signed forgery passes its signature: this is what
    # pinning is for. Against the pinned keys it fails, with or without the swapped ones.
    assert main(["--receipt", paths["resigned.json"], "--jwks", paths["swapped.json"]]) == 0
    capsys.readouterr()
    assert main(["--receipt", paths["resigned.json"], "--trusted-keys", paths["pinned.json"]]) == 1
    assert main(["--receipt", paths["r.json"], "--trusted-keys", paths["pinned.json"],
                 "--jwks", paths["swapped.json"]]) == 1
    assert "is not the pinned key" in capsys.readouterr().out
    # One JWK alone, as a pinned file, works too.
    (tmp_path / "one.json").write_text(json.dumps(jwks["keys"][0]))
    assert main(["--receipt", paths["r.json"], "--trusted-keys", str(tmp_path / "one.json")]) == 0


def test_the_verdict_and_skipped_reasons(evidence):
    receipt, jwks, audit = evidence
    report = verify(receipt, None, audit, DOCUMENT)
    assert report.verdict == "not_verified" and not report.valid and report.errors == []
    assert set(report.skipped) == {"signature", "sealed_hash", "pdf_seal", "certificate_text"}
    assert verify(receipt, jwks).verdict == "valid"
    assert verify(receipt, jwks, audit, DOCUMENT + b"!").verdict == "invalid"
    assert verify(_forged(receipt), None, None, DOCUMENT).verdict == "not_verified"


@pytest.mark.parametrize("change", [
    {"document": ["not", "an", "object"]}, {"document": "abc"}, {"signers": {"name": "x"}},
    {"signers": ["Mallory"]}, {"agreement_id": 7}, {"receipt_id": None},
])
def test_members_of_the_wrong_type_are_not_a_receipt(evidence, change):
    receipt, jwks, audit = evidence
    with pytest.raises(NotAReceipt):
        verify({**receipt, **change}, jwks, audit, DOCUMENT, b"%PDF-1.4 x")


def test_values_of_the_wrong_type_fail_their_checks_without_crashing(evidence):
    receipt, jwks, _ = evidence
    odd = copy.deepcopy(receipt)
    odd["document"]["sha256"] = ["x"]
    odd["signers"] = [{"name": 5, "email": {"a": 1}}]
    odd["title"] = 2 ** 80  # beyond what JCS can state exactly
    report = verify(odd, jwks, None, DOCUMENT)
    assert report.checks["signature"] == "fail" and report.checks["document_hash"] == "fail"
    deep: list = []
    for _ in range(5000):  # under JSON parsers' limits in other languages, over Python's stack
        deep = [deep]
    nested = {**receipt, "title": deep}
    with pytest.raises(NotAReceipt, match="nested"):
        verify(nested, jwks)
