"""The verifier accepts evidence made as receipts.md says and rejects any tampering."""

import base64
import copy
import hashlib

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.verifier import livemode, verdict, verify

DOCUMENT = b"%PDF-1.7 original document bytes"
SIGNED_PDF = b"%PDF-1.7 signed document bytes"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def entry(seq: int, kind: str, data: dict, prev: str) -> dict:
    body = {"seq": seq, "type": kind, "at": f"2026-11-28T12:00:0{seq}.000Z",
            "actor": {"kind": "system", "id": "system", "ip": None, "user_agent": None},
            "data": data, "prev": prev}
    return {**body, "hash": hashlib.sha256(rfc8785.dumps(body)).hexdigest()}


@pytest.fixture
def evidence() -> tuple[dict, dict, dict]:
    key = Ed25519PrivateKey.generate()
    x = b64url(key.public_key().public_bytes_raw())
    jwks = {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "k1", "alg": "EdDSA",
                      "use": "sig", "status": "active"}]}
    entries = []
    for kind in ("agreement.created", "signer.signed", "agreement.completed"):
        entries.append(entry(len(entries), kind, {"agreement_id": "agr_1"},
                             entries[-1]["hash"] if entries else "0" * 64))
    receipt = {
        "receipt_version": 1, "receipt_id": "rcpt_1", "agreement_id": "agr_1",
        "workspace_id": "ws_1", "title": "Lease", "outcome": "completed",
        "issued_at": "2026-11-28T12:00:09.000Z",
        "document": {"sha256": hashlib.sha256(DOCUMENT).hexdigest(), "pages": 1,
                     "sealed_sha256": hashlib.sha256(SIGNED_PDF).hexdigest()},
        "signers": [{"signer_id": "sgr_1", "name": "Ada", "email": "ada@example.com",
                     "status": "signed", "consent_at": "2026-11-28T12:00:01.000Z",
                     "signed_at": "2026-11-28T12:00:01.000Z", "ip": "203.0.113.9",
                     "user_agent": "Firefox"}],
        "audit": {"entries": 3, "head": entries[-1]["hash"]},
        "timestamp": None,
    }
    receipt["signature"] = {"alg": "EdDSA", "crv": "Ed25519", "kid": "k1",
                            "value": b64url(key.sign(rfc8785.dumps(receipt)))}
    entries.append(entry(3, "receipt.issued", {
        "receipt_id": "rcpt_1", "receipt_sha256": hashlib.sha256(rfc8785.dumps(receipt)).hexdigest()},
        entries[-1]["hash"]))
    return receipt, jwks, {"agreement_id": "agr_1", "entries": entries}


ALL_PASS = {"signature": "pass", "audit_chain": "pass", "document_hash": "pass", "sealed_hash": "pass"}


def test_intact_evidence_passes_every_check(evidence: tuple[dict, dict, dict]) -> None:
    receipt, jwks, audit = evidence
    assert verify(receipt, jwks, audit, DOCUMENT, SIGNED_PDF) == ALL_PASS


def test_missing_parts_are_skipped(evidence: tuple[dict, dict, dict]) -> None:
    receipt, jwks, _ = evidence
    assert verify(receipt, jwks, None, None, None) == {
        "signature": "pass", "audit_chain": "skipped", "document_hash": "skipped",
        "sealed_hash": "skipped"}


@pytest.mark.parametrize(("path", "value"), [
    (("title",), "Other lease"),
    (("signers", 0, "ip"), "198.51.100.1"),
    (("signers", 0, "signed_at"), "2026-11-28T12:00:02.000Z"),
    (("document", "sha256"), "0" * 64),
    (("audit", "entries"), 2),
    (("issued_at",), "2026-11-29T12:00:09.000Z"),
])
def test_a_changed_receipt_value_fails_the_signature(evidence: tuple[dict, dict, dict], path: tuple,
                                                     value: object) -> None:
    receipt, jwks, audit = evidence
    tampered = copy.deepcopy(receipt)
    target = tampered
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    assert verify(tampered, jwks, audit, DOCUMENT, SIGNED_PDF)["signature"] == "fail"


def test_a_receipt_under_an_unknown_key_fails(evidence: tuple[dict, dict, dict]) -> None:
    receipt, jwks, _ = evidence
    other = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    forged = {"keys": [{**jwks["keys"][0], "x": b64url(other)}]}
    assert verify(receipt, forged)["signature"] == "fail"
    assert verify(receipt, {"keys": []})["signature"] == "fail"


@pytest.mark.parametrize("change", ["data", "at", "rehash", "drop", "swap"])
def test_a_changed_audit_entry_fails_the_chain(evidence: tuple[dict, dict, dict], change: str) -> None:
    receipt, jwks, audit = evidence
    entries = copy.deepcopy(audit["entries"])
    if change == "data":
        entries[1]["data"]["agreement_id"] = "agr_2"
    elif change == "at":
        entries[0]["at"] = "2026-11-28T11:00:00.000Z"
    elif change == "rehash":
        # Rewriting an entry and its own hash still breaks the next entry's prev link.
        body = {k: v for k, v in entries[1].items() if k != "hash"} | {"type": "signer.declined"}
        entries[1] = {**body, "hash": hashlib.sha256(rfc8785.dumps(body)).hexdigest()}
    elif change == "drop":
        del entries[1]
    else:
        entries[0], entries[1] = entries[1], entries[0]
    result = verify(receipt, jwks, {"agreement_id": "agr_1", "entries": entries}, DOCUMENT, SIGNED_PDF)
    assert result["audit_chain"] == "fail"
    assert result["signature"] == "pass"


def test_a_rebuilt_chain_no_longer_matches_the_head(evidence: tuple[dict, dict, dict]) -> None:
    receipt, jwks, audit = evidence
    entries = []
    for old in audit["entries"][:3]:
        data = {**old["data"], "note": "forged"}
        entries.append(entry(old["seq"], old["type"], data, entries[-1]["hash"] if entries else "0" * 64))
    assert verify(receipt, jwks, {"agreement_id": "agr_1", "entries": entries})["audit_chain"] == "fail"


def test_a_changed_document_byte_fails(evidence: tuple[dict, dict, dict]) -> None:
    receipt, jwks, audit = evidence
    for position in (0, len(DOCUMENT) // 2, len(DOCUMENT) - 1):
        changed = bytearray(DOCUMENT)
        changed[position] ^= 0x01
        assert verify(receipt, jwks, audit, bytes(changed), SIGNED_PDF)["document_hash"] == "fail"
    changed_pdf = bytearray(SIGNED_PDF)
    changed_pdf[-1] ^= 0x01
    assert verify(receipt, jwks, audit, DOCUMENT, bytes(changed_pdf))["sealed_hash"] == "fail"


def test_the_verifier_imports_no_pactra_code() -> None:
    from pathlib import Path

    source = (Path(__file__).parent / "verify.py").read_text()
    assert "pactra" not in source.replace("Pactra", "")


def forge(receipt: dict) -> dict:
    """What a forger makes without Pactra's key: a signer renamed, a signature of "AAAA"."""
    forged = copy.deepcopy(receipt)
    forged["signers"][0]["name"] = "Mallory"
    forged["signature"] = {**forged["signature"], "value": "AAAA"}
    return forged


def test_a_forged_receipt_is_never_valid(evidence: tuple[dict, dict, dict]) -> None:
    receipt, jwks, audit = evidence
    forged = forge(receipt)
    # Only the document: its hash passes (the forger kept it), and nothing vouches for the rest.
    assert verdict(verify(forged, None, None, DOCUMENT)) == "not_verified"
    assert verdict(verify(forged, jwks, audit, DOCUMENT, SIGNED_PDF)) == "invalid"
    assert verdict(verify(receipt, jwks, audit, DOCUMENT, SIGNED_PDF)) == "valid"
    assert verdict(verify(receipt, None, audit, DOCUMENT, SIGNED_PDF)) == "not_verified"
    assert verdict(verify(receipt, jwks)) == "valid"


def test_pactra_verify_gives_the_independent_verdict(evidence: tuple[dict, dict, dict]) -> None:
    """The shipped verifier and this one, written from receipts.md alone, agree on every case."""
    from pactra_verify import verify as shipped

    receipt, jwks, audit = evidence
    forged = forge(receipt)
    other = {"keys": [{**jwks["keys"][0], "x": b64url(Ed25519PrivateKey.generate().public_key()
                                                      .public_bytes_raw())}]}
    cases = [(receipt, None, None, DOCUMENT), (receipt, jwks, None, None), (receipt, jwks, audit, DOCUMENT),
             (forged, None, None, DOCUMENT), (forged, jwks, audit, DOCUMENT), (receipt, other, None, None),
             (receipt, None, audit, DOCUMENT + b"!")]
    for case in cases:
        mine = verify(*case)
        report = shipped(*case)
        assert report.verdict == verdict(mine), case
        assert {c: report.checks[c] for c in mine} == mine, case
        assert report.valid is (verdict(mine) == "valid")


def _resign(receipt: dict, key: Ed25519PrivateKey, jwks: dict) -> dict:
    """The receipt signed again under a key of its own, ``k2`` in ``jwks``."""
    body = {name: value for name, value in receipt.items() if name != "signature"}
    jwks["keys"].append({**jwks["keys"][0], "kid": "k2",
                         "x": b64url(key.public_key().public_bytes_raw())})
    return {**body, "signature": {"alg": "EdDSA", "crv": "Ed25519", "kid": "k2",
                                  "value": b64url(key.sign(rfc8785.dumps(body)))}}


def test_a_test_receipt_says_so_and_its_mode_is_signed(evidence: tuple[dict, dict, dict]) -> None:
    """receipts.md: livemode false marks a test receipt, inside what the signature covers;
    both verifiers accept it and say it is a test; turning it into a live one breaks it."""
    from pactra_verify import verify as shipped

    receipt, jwks, _ = evidence
    assert livemode(receipt) is True  # no member: issued before test mode, live
    test_receipt = _resign({**receipt, "livemode": False}, Ed25519PrivateKey.generate(), jwks)
    assert livemode(test_receipt) is False
    # (The fixture's trail names the live receipt in its receipt.issued entry: left out here.)
    assert verdict(verify(test_receipt, jwks, None, DOCUMENT)) == "valid"
    report = shipped(test_receipt, jwks, None, DOCUMENT)
    assert report.valid and report.livemode is False
    assert any("TEST RECEIPT" in note for note in report.notes)
    passed_as_live = {**test_receipt, "livemode": True}
    assert verdict(verify(passed_as_live, jwks)) == "invalid"
    assert shipped(passed_as_live, jwks).verdict == "invalid"
