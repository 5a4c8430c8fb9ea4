"""Purging ended agreements (api.md, "Deletion and retention"): daily for a workspace's
``retention_days``, and at once for ``DELETE /v1/agreements/{id}`` on an ended agreement.

Signing owns the agreement, so it decides: it deletes the agreement with its signers (their
names, emails, IPs, signatures) and fields, and publishes ``agreement.purged`` in the same
transaction. Every other service purges its own part when that event arrives (receipts: the
tombstone; documents: the document unless another agreement uses it; ai: the analyses with
the document; notify: the parties and their emails).

An agreement whose evidence is still ``issuing`` is not purged yet: receipts still reads its
document and writes its receipt, and a purge overtaking that would bring data back.
"""

import logging
from datetime import datetime

from sqlalchemy import DateTime, func, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from pactra_contracts.events import AgreementPurged
from pactra_contracts.times import utcnow
from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork

from .agreements import Conflict, Context, load
from .models import ENDED, Agreement, RetentionPolicy

log = logging.getLogger(__name__)
# Agreements purged per transaction: a replica holds row locks on at most this many at once.
BATCH = 100


def note_policy(session: Session, workspace_id: str, retention_days: int | None,
                as_of: datetime) -> None:
    """Record a workspace's ``retention_days`` (a ``workspace.updated``); an update older
    than the one applied (events arrive in any order) changes nothing."""
    statement = insert(RetentionPolicy).values(workspace_id=workspace_id,
                                               retention_days=retention_days, as_of=as_of)
    session.execute(statement.on_conflict_do_update(
        index_elements=[RetentionPolicy.workspace_id],
        set_={"retention_days": statement.excluded.retention_days, "as_of": statement.excluded.as_of},
        where=RetentionPolicy.as_of < statement.excluded.as_of))


def purge(agreement: Agreement, reason: str, ctx: Context, uow: SqlAlchemyUnitOfWork) -> None:
    """Delete ``agreement`` (its signers and fields go with it) and tell the other services.
    A draft never had evidence and its document stays: only an ended agreement takes its
    document along."""
    uow.publish(ctx.event("agreement.purged", AgreementPurged(
        agreement_id=agreement.id, document_id=agreement.document_id, reason=reason,
        purge_document=agreement.ended), agreement))
    uow.session.delete(agreement)


def delete(workspace_id: str, agreement_id: str, ctx: Context, uow: SqlAlchemyUnitOfWork, *,
           livemode: bool | None = None) -> None:
    """``DELETE /v1/agreements/{id}``: a draft is deleted, an ended agreement purged early; a
    sent one cannot be (void it first)."""
    with uow:
        agreement = load(uow, workspace_id, agreement_id, lock=True, livemode=livemode)
        if agreement.status == "sent":
            raise Conflict("A sent agreement cannot be deleted; void it first.")
        if agreement.ended and agreement.evidence_status == "issuing":
            raise Conflict("Its evidence is still being issued; delete it once the receipt exists.")
        purge(agreement, "deleted", ctx, uow)
        uow.commit()
    log.info("agreement purged", extra={"agreement_id": agreement_id, "reason": "deleted",
                                        "status": agreement.status})


def purge_due(ctx: Context, uow: SqlAlchemyUnitOfWork, limit: int = BATCH) -> list[str]:
    """Purge up to ``limit`` agreements ended more than their workspace's ``retention_days``
    ago; their ids. Rows are claimed with ``FOR UPDATE SKIP LOCKED``, so replicas running
    together split the work and none purges an agreement twice (a purged one is gone)."""
    cutoff = (literal(utcnow(), DateTime(timezone=True))
              - func.make_interval(0, 0, 0, RetentionPolicy.retention_days))
    with uow:
        due = list(uow.session.scalars(
            select(Agreement)
            .join(RetentionPolicy, RetentionPolicy.workspace_id == Agreement.workspace_id)
            .where(RetentionPolicy.retention_days.is_not(None),
                   Agreement.status.in_(ENDED), Agreement.evidence_status != "issuing",
                   # "Ended more than retention_days ago": the boundary itself is not yet due.
                   Agreement.ended_at < cutoff)
            .order_by(Agreement.ended_at).limit(limit)
            .with_for_update(of=Agreement, skip_locked=True)))
        for agreement in due:
            purge(agreement, "retention", ctx, uow)
        uow.commit()
    return [agreement.id for agreement in due]


def run(ctx: Context, uow_factory) -> int:
    """The daily job: batches until nothing is due; logs each batch's ids and the total."""
    total = 0
    while purged := purge_due(ctx, uow_factory()):
        total += len(purged)
        log.info("retention purged agreements", extra={"count": len(purged), "agreement_ids": purged})
    log.info("retention run finished", extra={"count": total})
    return total
