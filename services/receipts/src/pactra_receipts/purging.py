"""Purging evidence (api.md, "Deletion and retention"; receipts.md, tombstones).

A purged agreement loses its trail, its signers' evidence, its receipt, its signed PDF and its
certificate; each receipt leaves a tombstone (receipt id, agreement id, issued_at, the SHA-256
of its JCS form, the audit head) so that ``POST /v1/receipts/verify`` still recognises it.
Tombstones go ``PACTRA_EVIDENCE_RETENTION_DAYS`` after the receipt was issued.
"""

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from pactra_contracts.events import AgreementPurged, Event
from pactra_contracts.times import utcnow
from pactra_platform import erasure
from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork

from .models import Receipt, Tombstone, TrackedAgreement

log = logging.getLogger(__name__)
SERVICE = "receipts"


def tombstone(session: Session, receipt: Receipt) -> None:
    body = receipt.body
    session.execute(insert(Tombstone).values(
        receipt_id=receipt.id, agreement_id=receipt.agreement_id,
        issued_at=datetime.fromisoformat(body["issued_at"]), receipt_sha256=receipt.sha256,
        audit_head=body["audit"]["head"]).on_conflict_do_nothing())


def purge_agreements(session: Session, store: object, agreement_ids: Iterable[str]) -> dict[str, int]:
    """Tombstone the receipts of ``agreement_ids`` and delete the rest of their evidence (rows
    in the caller's transaction; objects at once: a failure to delete one leaves ciphertext
    whose key the caller shreds, or that no row names any more)."""
    ids = list(agreement_ids)
    counts = {"agreements": 0, "receipts_tombstoned": 0, "objects": 0}
    if not ids:
        return counts
    for receipt in session.scalars(select(Receipt).where(Receipt.agreement_id.in_(ids))):
        tombstone(session, receipt)
        counts["receipts_tombstoned"] += 1
    for agreement_id in ids:
        counts["objects"] += store.delete_prefix(f"{agreement_id}/")  # type: ignore[attr-defined]
    # The audit entries, signer evidence, receipt and evidence job go with it (ON DELETE CASCADE).
    counts["agreements"] = session.execute(
        delete(TrackedAgreement).where(TrackedAgreement.id.in_(ids))).rowcount
    return counts


def on_deletion_requested(event: Event, uow: SqlAlchemyUnitOfWork) -> None:
    from .bootstrap import object_store

    request = erasure.purge_request(event)
    session = uow.session
    counts = erasure.begin_purge(session, request.workspace_id)
    ids = session.scalars(select(TrackedAgreement.id).where(
        TrackedAgreement.workspace_id == request.workspace_id)).all()
    counts |= purge_agreements(session, object_store(), ids)
    counts |= erasure.purge_workspace_rows(session, request.workspace_id)
    erasure.report_purged(session, event, SERVICE, counts)


def on_agreement_purged(event: Event, uow: SqlAlchemyUnitOfWork) -> None:
    """Signing purged an agreement (retention, or an early delete): its receipt becomes a
    tombstone and the rest of its evidence goes. Only an agreement of the event's workspace."""
    from .bootstrap import object_store

    data = event.payload()
    assert isinstance(data, AgreementPurged)
    session = uow.session
    ids = session.scalars(select(TrackedAgreement.id).where(
        TrackedAgreement.id == data.agreement_id,
        TrackedAgreement.workspace_id == event.workspace_id)).all()
    counts = purge_agreements(session, object_store(), ids)
    log.info("agreement purged", extra={"agreement_id": data.agreement_id, "reason": data.reason,
                                        "counts": counts})


def purge_expired_tombstones(session: Session, retention_days: int) -> int:
    cutoff = utcnow() - timedelta(days=retention_days)
    doomed = select(Tombstone.receipt_id).where(Tombstone.issued_at < cutoff).limit(1000) \
        .with_for_update(skip_locked=True).scalar_subquery()
    count = session.execute(delete(Tombstone).where(Tombstone.receipt_id.in_(doomed))).rowcount
    session.commit()
    if count:
        log.info("expired tombstones purged", extra={"count": count})
    return count


def tombstone_of(session: Session, receipt_id: str) -> Tombstone | None:
    return session.get(Tombstone, receipt_id)
