"""The receipt (receipts.md): what goes into it, and its signature over its JCS form. Plain
functions over what the trail recorded; the issuer (service_layer/evidence.py) makes the PDFs
and stores everything."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from .canonical import jcs, jcs_sha256
from .errors import EvidenceFailed, EvidenceStillIssuing, NoReceiptYet, NoSignedDocuments
from .trail import SignerEvidence, TrackedAgreement

RECEIPT_VERSION = 1


def receipt_signer(summary: Mapping[str, Any], evidence: SignerEvidence | None) -> dict[str, Any]:
    """A signer as the receipt states them: who, and what they did from where."""
    return {
        "signer_id": summary["id"], "name": summary["name"], "email": summary["email"],
        "status": evidence.status if evidence else "pending",
        "consent_at": evidence.consent_at if evidence else None,
        "signed_at": evidence.signed_at if evidence else None,
        "ip": evidence.ip if evidence else None,
        "user_agent": evidence.user_agent if evidence else None,
    }


def timestamp_note(configured: str | None, used: str | None) -> str:
    """What the certificate says of the seal's time: a TSA's, or why Pactra's own clock."""
    if used:
        return f"RFC 3161 timestamp from {used}, embedded in the PDF seal"
    if configured:
        return ("none: the time-stamping authority was unavailable for the whole grace period; "
                "the seal's time is Pactra's own clock")
    return "none: no time-stamping authority is configured; the seal's time is Pactra's own clock"


def signed_on(at: str | None) -> str | None:
    """The day of a signature (YYYY-MM-DD), for a date field left without a value."""
    return date.fromisoformat(at[:10]).isoformat() if at else None


def unsigned_receipt(agreement: TrackedAgreement, *, receipt_id: str, issued_at: str,
                     entries: int, head: str,
                     signers: Mapping[str, SignerEvidence], sealed_sha256: str | None,
                     timestamp: dict[str, str] | None) -> dict[str, Any]:
    """The receipt of the (ended) agreement, before its signature: it commits to the trail
    as it stood (``entries`` and ``head``) before ``receipt.issued`` was chained on."""
    created = agreement.created
    if created is None:
        raise ValueError(f"agreement {agreement.id} has no agreement.created in its trail")
    return {
        "receipt_version": RECEIPT_VERSION, "receipt_id": receipt_id, "agreement_id": agreement.id,
        "workspace_id": agreement.workspace_id, "title": created["title"],
        # In every receipt from now on (receipts.md shows it as a member of version 1;
        # receipts issued before it lack it and mean true), inside what the signature covers.
        "livemode": agreement.livemode,
        "outcome": agreement.outcome, "issued_at": issued_at,
        "document": {"sha256": created["document_sha256"], "pages": created["document_pages"],
                     "sealed_sha256": sealed_sha256},
        "signers": [receipt_signer(s, signers.get(s["id"])) for s in created["signers"]],
        "audit": {"entries": entries, "head": head},
        "timestamp": timestamp,
    }


def sign(receipt: dict[str, Any], kid: str, signature_of: Callable[[bytes], str]) -> dict[str, Any]:
    """``receipt`` with its Ed25519 signature over its JCS form (signature member absent)."""
    return {**receipt, "signature": {"alg": "EdDSA", "crv": "Ed25519", "kid": kid,
                                     "value": signature_of(jcs(receipt))}}


def issued_entry_data(receipt: Mapping[str, Any], receipt_sha256: str) -> dict[str, Any]:
    """The data of the trail's ``receipt.issued`` entry, chained on after the receipt."""
    return {"agreement_id": receipt["agreement_id"], "receipt_id": receipt["receipt_id"],
            "receipt_sha256": receipt_sha256, "outcome": receipt["outcome"],
            "sealed_sha256": receipt["document"]["sealed_sha256"]}


def retained(receipt: Mapping[str, Any], kept_sha256: str | None,
             tombstone_sha256: str | None) -> str | None:
    """What Pactra still holds of this very receipt (same id, same JCS hash): ``full``, a
    ``tombstone`` after its agreement or workspace was purged, or None (unknown here).
    ``kept_sha256`` and ``tombstone_sha256`` are what is kept under the receipt's id."""
    try:
        digest = jcs_sha256(receipt)
    except (TypeError, ValueError):
        return None
    if kept_sha256 is not None:
        return "full" if kept_sha256 == digest else None
    return "tombstone" if tombstone_sha256 == digest else None


@dataclass(frozen=True)
class EvidenceState:
    """Where an agreement's evidence stands, as its readers see it."""

    agreement_id: str
    outcome: str | None  # None until the agreement ended
    issued: bool
    job_status: str | None  # issuing | failed, while it is being made
    job_reason: str | None
    receipt: dict[str, Any] | None = None  # once issued, when it was read
    signed_pdf: str | None = None  # the stored files' names, once issued
    certificate_pdf: str | None = None

    @property
    def settled(self) -> bool:
        """Nothing will change soon: issued, or failed."""
        return self.issued or self.job_status == "failed"


def issued_receipt(state: EvidenceState) -> dict[str, Any]:
    """The receipt, or why there is none (yet)."""
    if state.issued and state.receipt is not None:
        return state.receipt
    if state.job_status == "failed":
        raise EvidenceFailed(state.job_reason)
    if state.outcome is not None or state.job_status is not None:
        raise EvidenceStillIssuing()
    raise NoReceiptYet(state.agreement_id)


def evidence_file(state: EvidenceState, which: str) -> str:
    """The stored name of ``signed_pdf`` or ``certificate_pdf``, or why there is none: only a
    completed agreement has them."""
    name = state.signed_pdf if which == "signed_pdf" else state.certificate_pdf
    if not state.issued and state.outcome == "completed":
        if state.job_status == "failed":
            raise EvidenceFailed(state.job_reason)
        raise EvidenceStillIssuing()
    if name is None:
        raise NoSignedDocuments(state.agreement_id)
    return name
