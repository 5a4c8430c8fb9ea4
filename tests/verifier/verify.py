"""An independent receipt verifier, written from receipts.md alone.

It uses only the published contract and public libraries (rfc8785, cryptography, hashlib) —
no Pactra code — so a test that passes it shows a stranger could check the evidence too.
"""

import base64
import hashlib
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

GENESIS = "0" * 64
PASS, FAIL, SKIPPED = "pass", "fail", "skipped"


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sha256_jcs(value: Any) -> str:
    return hashlib.sha256(rfc8785.dumps(value)).hexdigest()


def check_signature(receipt: dict, jwks: dict) -> str:
    try:
        signature = receipt["signature"]
        if signature.get("alg") != "EdDSA" or signature.get("crv") != "Ed25519":
            return FAIL
        keys = [k for k in jwks.get("keys", []) if k.get("kid") == signature["kid"]]
        if len(keys) != 1 or keys[0].get("kty") != "OKP" or keys[0].get("crv") != "Ed25519":
            return FAIL
        public = Ed25519PublicKey.from_public_bytes(_b64url(keys[0]["x"]))
        unsigned = {name: value for name, value in receipt.items() if name != "signature"}
        public.verify(_b64url(signature["value"]), rfc8785.dumps(unsigned))
    except (InvalidSignature, KeyError, TypeError, ValueError, AttributeError):
        return FAIL
    return PASS


def check_audit(receipt: dict, audit: dict | None) -> str:
    if audit is None:
        return SKIPPED
    try:
        if audit["agreement_id"] != receipt["agreement_id"]:
            return FAIL
        entries = audit["entries"]
        prev = GENESIS
        for number, entry in enumerate(entries):
            body = {name: value for name, value in entry.items() if name != "hash"}
            if entry["seq"] != number or entry["prev"] != prev or _sha256_jcs(body) != entry["hash"]:
                return FAIL
            prev = entry["hash"]
        covered = receipt["audit"]["entries"]
        if not isinstance(covered, int) or covered < 1 or covered > len(entries):
            return FAIL
        if entries[covered - 1]["hash"] != receipt["audit"]["head"]:
            return FAIL
        # The receipt.issued entry, when present, names the whole receipt by its hash.
        for entry in entries[covered:]:
            if entry["type"] == "receipt.issued" and \
                    entry["data"].get("receipt_id") == receipt["receipt_id"] and \
                    entry["data"].get("receipt_sha256") != _sha256_jcs(receipt):
                return FAIL
    except (KeyError, TypeError, ValueError, AttributeError):
        return FAIL
    return PASS


def check_hash(expected: Any, data: bytes | None) -> str:
    if data is None:
        return SKIPPED
    if not isinstance(expected, str):
        return FAIL
    return PASS if hashlib.sha256(data).hexdigest() == expected else FAIL


def verify(receipt: dict, jwks: dict | None, audit: dict | None = None, document: bytes | None = None,
           signed_pdf: bytes | None = None) -> dict[str, str]:
    """Each check of receipts.md "Verifying, step by step": ``pass``, ``fail`` or ``skipped``
    (the signature is skipped only when no keys are given)."""
    doc = receipt.get("document") if isinstance(receipt.get("document"), dict) else {}
    return {
        "signature": check_signature(receipt, jwks) if jwks is not None else SKIPPED,
        "audit_chain": check_audit(receipt, audit),
        "document_hash": check_hash(doc.get("sha256"), document),
        "sealed_hash": check_hash(doc.get("sealed_sha256"), signed_pdf),
    }


def livemode(receipt: dict) -> bool:
    """receipts.md: ``livemode`` is false for a test-mode agreement's receipt (it proves only
    that the test happened); a receipt without the member was issued before it existed and
    means true. It is inside what the signature covers, like every member but ``signature``."""
    value = receipt.get("livemode", True)
    if not isinstance(value, bool):
        raise ValueError("livemode must be true or false")
    return value


def verdict(checks: dict[str, str]) -> str:
    """``invalid`` if any check failed; ``valid`` only if none failed and the signature was
    checked: without it, every hash the receipt states may be the forger's own."""
    if FAIL in checks.values():
        return "invalid"
    return "valid" if checks.get("signature") == PASS else "not_verified"
