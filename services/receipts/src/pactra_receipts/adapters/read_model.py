"""What the API reads: an agreement's trail and where its evidence stands, each in one
statement, for the caller's workspace and mode only (a key of the other mode, or of another
workspace, finds nothing, as if the agreement did not exist)."""

from typing import Any

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import Session

from ..domain.receipt import EvidenceState
from .orm import AuditEntry, EvidenceJob, Receipt, TrackedAgreement


def _visible(agreement_id: str, workspace_id: str, livemode: bool | None) -> list[ColumnElement[bool]]:
    return [TrackedAgreement.id == agreement_id, TrackedAgreement.workspace_id == workspace_id,
            TrackedAgreement.livemode == livemode if livemode is not None else true()]


def evidence_state(session: Session, agreement_id: str, workspace_id: str, livemode: bool | None,
                   *, with_receipt: bool = True) -> EvidenceState | None:
    """None when there is no such agreement here; ``with_receipt=False`` leaves the receipt's
    body unread."""
    found = session.execute(
        select(TrackedAgreement.outcome, Receipt.id, Receipt.body if with_receipt else Receipt.id,
               Receipt.signed_pdf, Receipt.certificate_pdf, EvidenceJob.status, EvidenceJob.reason)
        .outerjoin(Receipt, Receipt.agreement_id == TrackedAgreement.id)
        .outerjoin(EvidenceJob, EvidenceJob.agreement_id == TrackedAgreement.id)
        .where(*_visible(agreement_id, workspace_id, livemode))).first()
    if found is None:
        return None
    outcome, receipt_id, body, signed_pdf, certificate_pdf, job_status, job_reason = found
    return EvidenceState(agreement_id, outcome, receipt_id is not None, job_status, job_reason,
                         body if with_receipt else None, signed_pdf, certificate_pdf)


def trail_of(session: Session, agreement_id: str, workspace_id: str,
             livemode: bool | None) -> list[dict[str, Any]] | None:
    """The trail's entries in ``seq`` order; None when there is no such agreement here."""
    rows = session.execute(
        select(TrackedAgreement.id, AuditEntry.entry)
        .outerjoin(AuditEntry, AuditEntry.agreement_id == TrackedAgreement.id)
        .where(*_visible(agreement_id, workspace_id, livemode))
        .order_by(AuditEntry.seq)).all()
    if not rows:
        return None
    return [entry for _, entry in rows if entry is not None]
