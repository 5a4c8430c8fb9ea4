"""Verifying a presented receipt (``POST /v1/receipts/verify``, api.md) with the standalone
verifier's checks (``pactra_verify``) against Pactra's published keys and sealing chains, and
saying what Pactra still holds of it.

Anyone may present anything here: the original document arrives only as its SHA-256, and
the sealed PDF is parsed (``check_pdf``, in a sandbox) only when its SHA-256 is the one the
receipt names."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pactra_verify.checks import NotAReceipt, check_document_digest, check_sealed_digest, verify

from ..domain import pdf_checks
from ..domain.errors import NotVerifiable
from ..domain.receipt import retained

NOT_READ = "not read: the sealed PDF is not the one the receipt names"
TOMBSTONE_NOTE = ("This receipt's agreement, or its whole workspace, no longer exists at "
                  "Pactra: only a tombstone of the receipt is kept (its id, agreement id, "
                  "issue time, hash and audit head). The receipt itself still verifies.")
# Receipt ids are at most this long: anything longer is not looked up.
MAX_RECEIPT_ID = 40


@dataclass(frozen=True)
class Presented:
    """What was posted: the receipt, perhaps its trail, and the digests of the files."""

    receipt: Any
    audit: Any = None
    document_sha256: str | None = None
    signed_pdf_sha256: str | None = None


@dataclass(frozen=True)
class Published:
    """Pactra's receipt keys (a JWKS) and sealing chains (PEM), current and retired."""

    keys: dict[str, Any]
    chains: bytes


def verify_presented(presented: Presented, published: Published, *,
                     check_pdf: Callable[[dict[str, Any], bytes], dict[str, Any]],
                     kept: Callable[[str], tuple[str | None, str | None]]) -> dict[str, Any]:
    """The verify answer. ``check_pdf(receipt, chains)`` is the sandboxed PDF checks' answer
    (it raises PdfCheckUnavailable); ``kept(receipt_id)`` the SHA-256 of the receipt kept under
    that id and of its tombstone (None where there is none)."""
    receipt, audit = presented.receipt, presented.audit
    if audit is not None and not isinstance(audit, dict):
        audit = {"entries": audit} if isinstance(audit, list) else {}
    try:
        report = verify(receipt, published.keys, audit, None, None, published.chains)
    except NotAReceipt as exc:
        raise NotVerifiable(str(exc)) from exc
    if presented.document_sha256 is not None:
        check_document_digest(report, receipt, presented.document_sha256)
    if presented.signed_pdf_sha256 is not None:
        if check_sealed_digest(report, receipt, presented.signed_pdf_sha256):
            pdf_checks.merge(report, check_pdf(receipt, published.chains))
        else:
            # Not the PDF the receipt names: nothing it says matters, so it is not parsed.
            for check in pdf_checks.PDF_CHECKS:
                report.skipped[check] = NOT_READ
    receipt_id = receipt.get("receipt_id")
    held = (retained(receipt, *kept(receipt_id))
            if isinstance(receipt_id, str) and len(receipt_id) <= MAX_RECEIPT_ID else None)
    notes = list(report.notes)
    if held == "tombstone":
        notes.append(TOMBSTONE_NOTE)
    # The published keys are always at hand here, so the signature is always checked: `valid`
    # (api.md: none failed) and `verdict` agree; `verdict` would say `not_verified` were it not.
    return {"valid": report.valid, "verdict": report.verdict, "receipt_id": receipt_id,
            "agreement_id": receipt.get("agreement_id"), "livemode": report.livemode,
            "checks": report.checks,
            "errors": report.errors, "skipped": report.skipped, "notes": notes,
            "retained": held}
