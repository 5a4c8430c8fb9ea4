"""Tombstones (receipts.md): what survives of a receipt once its agreement was purged —
receipt id, agreement id, issued_at, the SHA-256 of its JCS form, the audit head — so that
``POST /v1/receipts/verify`` still recognises it. Tombstones go
``PACTRA_EVIDENCE_RETENTION_DAYS`` after the receipt was issued.
"""

import logging
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from pactra_contracts.times import utcnow

from .orm import Receipt, Tombstone

log = logging.getLogger(__name__)


class ObjectDeleter(Protocol):
    def delete_prefix(self, prefix: str) -> int: ...


def tombstone(session: Session, receipt: Receipt) -> None:
    body = receipt.body
    session.execute(insert(Tombstone).values(
        receipt_id=receipt.id, agreement_id=receipt.agreement_id,
        issued_at=datetime.fromisoformat(body["issued_at"]), receipt_sha256=receipt.sha256,
        audit_head=body["audit"]["head"]).on_conflict_do_nothing())


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


def kept_digests(session: Session, receipt_id: str) -> tuple[str | None, str | None]:
    """The SHA-256 of the receipt kept under ``receipt_id``, and of its tombstone."""
    kept = session.scalar(select(Receipt.sha256).where(Receipt.id == receipt_id))
    if kept is not None:
        return kept, None
    stone = tombstone_of(session, receipt_id)
    return None, stone.receipt_sha256 if stone is not None else None
