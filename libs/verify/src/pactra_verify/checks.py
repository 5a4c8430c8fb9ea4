"""The checks of receipts.md, "Verifying, step by step"."""

import base64
import hashlib
import io
import re
from dataclasses import dataclass, field
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

PASS, FAIL, SKIPPED = "pass", "fail", "skipped"
ZERO_HASH = "0" * 64
CHECKS = ("signature", "audit_chain", "document_hash", "sealed_hash", "pdf_seal", "certificate_text")


@dataclass
class Report:
    checks: dict[str, str] = field(default_factory=lambda: dict.fromkeys(CHECKS, SKIPPED))
    errors: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return FAIL not in self.checks.values()

    def fail(self, check: str, message: str) -> None:
        self.checks[check] = FAIL
        self.errors.append(f"{check}: {message}")


class NotAReceipt(ValueError):
    pass


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _jcs_hash(value: Any) -> str:
    return hashlib.sha256(rfc8785.dumps(value)).hexdigest()


def check_shape(receipt: Any) -> None:
    required = ("receipt_version", "receipt_id", "agreement_id", "outcome", "document", "signers",
                "audit", "signature")
    if not isinstance(receipt, dict) or any(name not in receipt for name in required):
        raise NotAReceipt("This is not a Pactra receipt: members are missing.")
    if not isinstance(receipt["signature"], dict) or not isinstance(receipt["audit"], dict):
        raise NotAReceipt("This is not a Pactra receipt: signature and audit must be objects.")


def check_signature(report: Report, receipt: dict, jwks: dict) -> None:
    signature = receipt["signature"]
    key = next((k for k in jwks.get("keys", []) if k.get("kid") == signature.get("kid")), None)
    if key is None:
        report.fail("signature", f"key {signature.get('kid')!r} is not in the published keys")
        return
    if (key.get("kty"), key.get("crv"), signature.get("alg")) != ("OKP", "Ed25519", "EdDSA"):
        report.fail("signature", "the key or the algorithm is not Ed25519/EdDSA")
        return
    unsigned = {name: value for name, value in receipt.items() if name != "signature"}
    try:
        Ed25519PublicKey.from_public_bytes(_b64url(key["x"])).verify(
            _b64url(signature["value"]), rfc8785.dumps(unsigned))
    except (InvalidSignature, ValueError, KeyError, TypeError):
        report.fail("signature", "the Ed25519 signature does not match the receipt")
        return
    report.checks["signature"] = PASS


def check_audit(report: Report, receipt: dict, audit: dict) -> None:
    entries = audit.get("entries") if isinstance(audit, dict) else None
    if not isinstance(entries, list):
        report.fail("audit_chain", "the audit file has no entries")
        return
    if audit.get("agreement_id") not in (None, receipt["agreement_id"]):
        report.fail("audit_chain", "the audit trail belongs to another agreement")
        return
    previous = ZERO_HASH
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or entry.get("seq") != index:
            report.fail("audit_chain", f"entry {index} is out of sequence")
            return
        if entry.get("prev") != previous:
            report.fail("audit_chain", f"entry {index} does not link to the entry before it")
            return
        computed = _jcs_hash({name: value for name, value in entry.items() if name != "hash"})
        if computed != entry.get("hash"):
            report.fail("audit_chain", f"entry {index} was changed (its hash does not match)")
            return
        previous = computed
    covered = receipt["audit"].get("entries")
    if not isinstance(covered, int) or not 0 < covered <= len(entries):
        report.fail("audit_chain", "the trail is shorter than the receipt says")
        return
    if entries[covered - 1]["hash"] != receipt["audit"].get("head"):
        report.fail("audit_chain", "the receipt's audit head is not the trail's entry it names")
        return
    report.checks["audit_chain"] = PASS


def check_document(report: Report, receipt: dict, document: bytes) -> None:
    if hashlib.sha256(document).hexdigest() == receipt["document"].get("sha256"):
        report.checks["document_hash"] = PASS
    else:
        report.fail("document_hash", "the document is not the one that was signed")


def check_sealed(report: Report, receipt: dict, signed_pdf: bytes) -> None:
    expected = receipt["document"].get("sealed_sha256")
    if expected is None:
        report.fail("sealed_hash", "this receipt names no sealed PDF")
    elif hashlib.sha256(signed_pdf).hexdigest() == expected:
        report.checks["sealed_hash"] = PASS
    else:
        report.fail("sealed_hash", "the sealed PDF is not the one the receipt names")


def check_certificate_text(report: Report, receipt: dict, signed_pdf: bytes) -> None:
    """The certificate pages must state what the receipt states (receipts.md, step 4): the
    document hash, audit head, agreement id, the TSA when timestamped, and each signer's name,
    email, IP, consent and signing times."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(signed_pdf))
        text = "\n".join(page.extract_text() or "" for page in reader.pages)
    except Exception as exc:  # any parse failure is a failed check, not a crash
        report.fail("certificate_text", f"the PDF's text cannot be read ({type(exc).__name__})")
        return
    squeezed = re.sub(r"\s+", "", text)
    spaced = re.sub(r"\s+", " ", text)
    wanted = [receipt["document"].get("sha256"), receipt["audit"].get("head"), receipt["agreement_id"]]
    missing = [value for value in wanted if value and value not in squeezed]
    stamp = receipt.get("timestamp")
    if isinstance(stamp, dict) and stamp.get("tsa") and re.sub(r"\s+", "", stamp["tsa"]) not in squeezed:
        missing.append(stamp["tsa"])
    for signer in receipt["signers"]:
        for key in ("name", "email", "ip", "consent_at", "signed_at"):
            value = signer.get(key)
            stated = value and (re.sub(r"\s+", " ", value) in spaced or re.sub(r"\s+", "", value) in squeezed)
            if value and not stated:
                missing.append(value)
    if missing:
        report.fail("certificate_text", f"the certificate does not state: {', '.join(missing[:5])}")
    else:
        report.checks["certificate_text"] = PASS


def verify(receipt: dict, jwks: dict | None = None, audit: dict | None = None,
           document: bytes | None = None, signed_pdf: bytes | None = None,
           chain_pem: bytes | None = None) -> Report:
    """Every check that the given material allows; the rest are ``skipped``."""
    check_shape(receipt)
    report = Report()
    if jwks is not None:
        check_signature(report, receipt, jwks)
    if audit is not None:
        check_audit(report, receipt, audit)
    if document is not None:
        check_document(report, receipt, document)
    if signed_pdf is not None:
        check_sealed(report, receipt, signed_pdf)
        from .seal import check_seal

        check_seal(report, signed_pdf, chain_pem)
        check_certificate_text(report, receipt, signed_pdf)
    return report
