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
from collections.abc import Callable

from pactra_contracts.events import AgreementPurged
from pactra_contracts.times import utcnow

from ..domain.agreement import Agreement
from .context import Context
from .unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
# Agreements purged per transaction: a replica holds row locks on at most this many at once.
BATCH = 100


def purge(agreement: Agreement, reason: str, ctx: Context, uow: UnitOfWork) -> None:
    """Delete ``agreement`` (its signers and fields go with it) and tell the other services.
    A draft never had evidence and its document stays: only an ended agreement takes its
    document along."""
    uow.publish(ctx.event("agreement.purged", AgreementPurged(
        agreement_id=agreement.id, document_id=agreement.document_id, reason=reason,
        purge_document=agreement.ended), agreement))
    uow.agreements.delete(agreement)


def delete(workspace_id: str, agreement_id: str, ctx: Context, uow: UnitOfWork, *,
           livemode: bool | None = None) -> None:
    """``DELETE /v1/agreements/{id}``: a draft is deleted, an ended agreement purged early; a
    sent one cannot be (void it first)."""
    with uow:
        agreement = uow.agreements.get(workspace_id, agreement_id, lock=True, livemode=livemode)
        agreement.check_deletable()
        purge(agreement, "deleted", ctx, uow)
        uow.commit()
    log.info("agreement purged", extra={"agreement_id": agreement_id, "reason": "deleted",
                                        "status": agreement.status})


def purge_due(ctx: Context, uow: UnitOfWork, limit: int = BATCH) -> list[str]:
    """Purge up to ``limit`` agreements ended more than their workspace's ``retention_days``
    ago; their ids. Rows are claimed with ``FOR UPDATE SKIP LOCKED``, so replicas running
    together split the work and none purges an agreement twice (a purged one is gone)."""
    with uow:
        due = uow.agreements.due_for_retention(utcnow(), limit)
        for agreement in due:
            purge(agreement, "retention", ctx, uow)
        uow.commit()
    return [agreement.id for agreement in due]


def run(ctx: Context, uow_factory: Callable[[], UnitOfWork]) -> int:
    """The daily job: batches until nothing is due; logs each batch's ids and the total."""
    total = 0
    while purged := purge_due(ctx, uow_factory()):
        total += len(purged)
        log.info("retention purged agreements", extra={"count": len(purged), "agreement_ids": purged})
    log.info("retention run finished", extra={"count": total})
    return total
