"""The checks of receipts.md, "Verifying, step by step"."""

import base64
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import ValidationError

from pactra_contracts.resources import PresentedReceipt

PASS, FAIL, SKIPPED = "pass", "fail", "skipped"
VALID, INVALID, NOT_VERIFIED = "valid", "invalid", "not_verified"
ZERO_HASH = "0" * 64
# What every page of a test-mode agreement's sealed PDF says (api.md, "Test mode").
TEST_STAMP = "TEST \u2014 NOT LEGALLY BINDING"
TEST_RECEIPT_NOTE = ("TEST RECEIPT (livemode: false): made with a test key, it proves only that "
                     "a test took place; it is not a legally binding signature.")
CHECKS = ("signature", "audit_chain", "document_hash", "sealed_hash", "pdf_seal", "certificate_text")
# Why a check did not run, when the material it needs was not given.
NOT_GIVEN = {
    "signature": "no keys to check it against (give the published keys or pinned trusted keys)",
    "audit_chain": "no audit trail given",
    "document_hash": "no original document given",
    "sealed_hash": "no sealed PDF given",
    "pdf_seal": "no sealed PDF given",
    "certificate_text": "no sealed PDF given",
}


@dataclass
class Report:
    checks: dict[str, str] = field(default_factory=lambda: dict.fromkeys(CHECKS, SKIPPED))
    errors: list[str] = field(default_factory=list)
    # For each check still ``skipped``, why; and caveats on checks that passed only in part.
    skipped: dict[str, str] = field(default_factory=lambda: dict(NOT_GIVEN))
    notes: list[str] = field(default_factory=list)
    # The receipt's ``livemode`` (covered by its signature); a receipt without the member was
    # issued before test mode existed and is live (receipts.md).
    livemode: bool = True

    @property
    def verdict(self) -> str:
        """``invalid`` when any check failed; ``valid`` only when none failed *and* the
        signature was checked against a key: everything else a receipt states (hashes, audit
        head) is worth nothing until its signature is known to be Pactra's. Otherwise
        ``not_verified``: nothing failed, but nothing vouches for the receipt either."""
        if FAIL in self.checks.values():
            return INVALID
        return VALID if self.checks["signature"] == PASS else NOT_VERIFIED

    @property
    def valid(self) -> bool:
        return self.verdict == VALID

    def passed(self, check: str) -> None:
        self.checks[check] = PASS
        self.skipped.pop(check, None)

    def fail(self, check: str, message: str) -> None:
        self.checks[check] = FAIL
        self.skipped.pop(check, None)
        self.errors.append(f"{check}: {message}")


class NotAReceipt(ValueError):
    pass


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _jcs_hash(value: Any) -> str:
    return hashlib.sha256(rfc8785.dumps(value)).hexdigest()


# Why a presented receipt is refused, by the first member (in this order) of the wrong type.
SHAPE_ERRORS = {
    "signature": "signature and audit must be objects.",
    "audit": "signature and audit must be objects.",
    "document": "document must be an object.",
    "signers": "signers must be a list of objects.",
    "receipt_id": "receipt_id must be a string.",
    "agreement_id": "agreement_id must be a string.",
    "livemode": "livemode must be true or false.",
}


def parse_receipt(receipt: Any) -> PresentedReceipt:
    """The receipt's members with the types receipts.md gives them, so that no check below
    trips over a list where an object belongs (a crafted receipt is refused, not a crash).
    The values are the checks' to judge: the signature is checked over ``receipt`` itself."""
    try:
        return PresentedReceipt.model_validate(receipt)
    except ValidationError as exc:
        errors = exc.errors()
        if not isinstance(receipt, dict) or any(error["type"] == "missing" for error in errors):
            raise NotAReceipt("This is not a Pactra receipt: members are missing.") from None
        wrong = {error["loc"][0] for error in errors if error["loc"]}
        reason = next((text for name, text in SHAPE_ERRORS.items() if name in wrong),
                      "its members have the wrong types.")
        raise NotAReceipt(f"This is not a Pactra receipt: {reason}") from None


def _key_set(keys: Any, what: str) -> list[dict]:
    """The keys of a JWKS (``{"keys": [...]}``), a list of JWKs or one JWK."""
    if isinstance(keys, dict) and "keys" in keys:
        keys = keys["keys"]
    elif isinstance(keys, dict):
        keys = [keys]
    if not isinstance(keys, list) or not all(isinstance(key, dict) for key in keys):
        raise NotAReceipt(f"The {what} are not a JWKS (an object with a list of keys).")
    return keys


def check_signature(report: Report, receipt: dict, jwks: Any, trusted: Any = None) -> None:
    """The Ed25519 signature against the receipt's key: a pinned (trusted) key when the user
    gave some, the published keys otherwise. A published key that differs from the pinned
    key of the same id fails: someone swapped the keys the server hands out."""
    signature = receipt["signature"]
    kid = signature.get("kid")
    published = _key_set(jwks, "published keys") if jwks is not None else []
    pinned = _key_set(trusted, "trusted keys") if trusted is not None else None
    source = "pinned trusted keys" if pinned is not None else "published keys"
    key = next((k for k in (pinned if pinned is not None else published) if k.get("kid") == kid), None)
    if key is None:
        report.fail("signature", f"key {kid!r} is not in the {source}")
        return
    if pinned is not None:
        swapped = [k for k in published if k.get("kid") == kid and k.get("x") != key.get("x")]
        if swapped:
            report.fail("signature", f"the published key {kid!r} is not the pinned key of that id")
            return
    if (key.get("kty"), key.get("crv"), signature.get("alg")) != ("OKP", "Ed25519", "EdDSA"):
        report.fail("signature", "the key or the algorithm is not Ed25519/EdDSA")
        return
    unsigned = {name: value for name, value in receipt.items() if name != "signature"}
    try:
        Ed25519PublicKey.from_public_bytes(_b64url(key["x"])).verify(
            _b64url(signature["value"]), rfc8785.dumps(unsigned))
    except (InvalidSignature, ValueError, KeyError, TypeError, AttributeError):
        # rfc8785's errors (numbers JSON cannot state exactly) are ValueErrors too.
        report.fail("signature", "the Ed25519 signature does not match the receipt")
        return
    report.passed("signature")


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
        try:
            computed = _jcs_hash({name: value for name, value in entry.items() if name != "hash"})
        except ValueError:  # rfc8785 refuses numbers it cannot state exactly
            report.fail("audit_chain", f"entry {index} cannot be canonicalised")
            return
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
    # The trail's receipt.issued entry names the receipt that was issued by its hash: a receipt
    # other than that one (however its signature fares) is not the one in the trail.
    for entry in entries[covered:]:
        data = entry.get("data")
        if entry.get("type") == "receipt.issued" and isinstance(data, dict) \
                and data.get("receipt_id") == receipt["receipt_id"]:
            try:
                issued = _jcs_hash(receipt)
            except ValueError:
                issued = None
            if data.get("receipt_sha256") != issued:
                report.fail("audit_chain", "the trail's receipt.issued entry names another receipt")
                return
    report.passed("audit_chain")


def check_document(report: Report, receipt: dict, document: bytes) -> None:
    check_document_digest(report, receipt, hashlib.sha256(document).hexdigest())


def check_document_digest(report: Report, receipt: dict, sha256_hex: str) -> None:
    """The document check from a SHA-256 computed elsewhere (e.g. while a file streamed in)."""
    if sha256_hex == receipt["document"].get("sha256"):
        report.passed("document_hash")
    else:
        report.fail("document_hash", "the document is not the one that was signed")


def check_sealed(report: Report, receipt: dict, signed_pdf: bytes) -> None:
    check_sealed_digest(report, receipt, hashlib.sha256(signed_pdf).hexdigest())


def check_sealed_digest(report: Report, receipt: dict, sha256_hex: str) -> bool:
    """The sealed-hash check from a SHA-256 computed elsewhere; True when it passed."""
    expected = receipt["document"].get("sealed_sha256")
    if expected is None:
        report.fail("sealed_hash", "this receipt names no sealed PDF")
    elif sha256_hex == expected:
        report.passed("sealed_hash")
        return True
    else:
        report.fail("sealed_hash", "the sealed PDF is not the one the receipt names")
    return False


def check_signed_pdf(report: Report, receipt: dict, signed_pdf: bytes,
                     chain_pem: bytes | None) -> None:
    """The checks that parse the sealed PDF: its seal, and what its certificate pages state."""
    from .seal import check_seal

    check_seal(report, signed_pdf, chain_pem)
    check_certificate_text(report, receipt, signed_pdf)


def check_certificate_text(report: Report, receipt: dict, signed_pdf: bytes) -> None:
    """The certificate pages must state what the receipt states (receipts.md, step 4): the
    document hash, audit head, agreement id, the TSA when timestamped, and each signer's name,
    email, IP, consent and signing times."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(signed_pdf))
        pages = [page.extract_text() or "" for page in reader.pages]
        text = "\n".join(pages)
    except Exception as exc:  # any parse failure is a failed check, not a crash
        report.fail("certificate_text", f"the PDF's text cannot be read ({type(exc).__name__})")
        return
    squeezed = re.sub(r"\s+", "", text)
    spaced = re.sub(r"\s+", " ", text)
    wanted = [receipt["document"].get("sha256"), receipt["audit"].get("head"), receipt["agreement_id"]]
    # Only strings can be stated; a member of another type is compared by its JSON text.
    wanted = [value if isinstance(value, str) or value is None else json.dumps(value) for value in wanted]
    missing = [value for value in wanted if value and value not in squeezed]
    stamp = receipt.get("timestamp")
    tsa = stamp.get("tsa") if isinstance(stamp, dict) else None
    if tsa and (not isinstance(tsa, str) or re.sub(r"\s+", "", tsa) not in squeezed):
        missing.append(str(tsa))
    for signer in receipt["signers"]:
        for key in ("name", "email", "ip", "consent_at", "signed_at"):
            value = signer.get(key)
            if value is not None and not isinstance(value, str):
                missing.append(json.dumps(value))
                continue
            stated = value and (re.sub(r"\s+", " ", value) in spaced or re.sub(r"\s+", "", value) in squeezed)
            if value and not stated:
                missing.append(value)
    if receipt.get("livemode") is False:
        # A test receipt's PDF must say so on every page, so it can never pass as a live one.
        unstamped = [number for number, page in enumerate(pages, start=1)
                     if TEST_STAMP not in re.sub(r"\s+", " ", page)]
        if unstamped:
            missing.append(f"{TEST_STAMP!r} on page(s) {', '.join(map(str, unstamped[:5]))}")
    if missing:
        report.fail("certificate_text", f"the certificate does not state: {', '.join(missing[:5])}")
    else:
        report.passed("certificate_text")


def verify(receipt: dict, jwks: dict | None = None, audit: dict | None = None,
           document: bytes | None = None, signed_pdf: bytes | None = None,
           chain_pem: bytes | None = None, trusted_keys: Any = None) -> Report:
    """Every check that the given material allows; the rest are ``skipped``, each with its
    reason in ``report.skipped``. ``report.verdict`` is ``valid`` only when the signature was
    checked (against ``trusted_keys`` when given, else ``jwks``) and nothing failed."""
    try:
        report = Report(livemode=parse_receipt(receipt).livemode)
        if not report.livemode:
            report.notes.append(TEST_RECEIPT_NOTE)
        if jwks is not None or trusted_keys is not None:
            check_signature(report, receipt, jwks, trusted_keys)
        if audit is not None:
            check_audit(report, receipt, audit)
        if document is not None:
            check_document(report, receipt, document)
        if signed_pdf is not None:
            check_sealed(report, receipt, signed_pdf)
            check_signed_pdf(report, receipt, signed_pdf, chain_pem)
    except RecursionError as exc:
        # JSON nested deeper than any receipt is; canonicalising it would exhaust the stack.
        raise NotAReceipt("This is not a Pactra receipt: it is nested too deeply.") from exc
    return report
