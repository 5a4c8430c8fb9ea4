"""Issuing due evidence, in the worker: a periodic job claims ended agreements whose evidence
is due (``FOR UPDATE SKIP LOCKED``: replicas share the work, a crashed one's claim is released
with its connection), makes the evidence and retries failures with back-off.

Nothing here holds a broker message: the event handler only recorded the ending and marked
the evidence due, in its own committed transaction. A failing TSA keeps the evidence
``issuing`` for the grace period; after it the seal is made without a timestamp, said so.
Any other failure is published as ``receipt.failed`` (the signing service shows it) and
retried; a later success publishes ``receipt.issued``, which supersedes it.
"""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from prometheus_client import Counter
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from pactra_contracts.events import ReceiptFailed, make_event
from pactra_contracts.times import utcnow
from pactra_platform.messaging import add_to_outbox, notify_on_commit

from .config import SealSettings
from .evidence import Cause, EvidenceMaker, TsaUnavailable
from .models import EvidenceJob, Receipt, TrackedAgreement

log = logging.getLogger(__name__)
SERVICE = "receipts"
# Marking evidence due wakes the issuers when the handler's transaction commits.
EVIDENCE_DUE_CHANNEL = "pactra_evidence_due"
# Issuing a receipt, or failing to, NOTIFYs this channel with the agreement id: requests
# waiting for that receipt (``Prefer: wait``) answer at once.
EVIDENCE_SETTLED_CHANNEL = "pactra_evidence_settled"

ISSUED = Counter("pactra_receipts_evidence_issued", "Receipts issued by this worker", ["outcome"])
FAILED = Counter("pactra_receipts_evidence_failed", "Failed attempts to make evidence", ["kind"])
UNTIMESTAMPED = Counter("pactra_receipts_seals_without_timestamp",
                        "Seals made without a timestamp after the TSA's grace period")


def mark_due(session: Session, agreement: TrackedAgreement, correlation_id: str | None,
             causation_id: str | None) -> None:
    """Note (once) that the agreement's evidence is due; the worker's issuer makes it."""
    from sqlalchemy.dialects.postgresql import insert

    session.execute(insert(EvidenceJob).values(
        agreement_id=agreement.id, workspace_id=agreement.workspace_id, status="issuing",
        attempts=0, correlation_id=correlation_id, causation_id=causation_id,
    ).on_conflict_do_nothing())
    notify_on_commit(session, EVIDENCE_DUE_CHANNEL)


def _backoff(settings: SealSettings, attempts: int) -> float:
    return min(settings.evidence_retry_seconds * 2 ** min(attempts - 1, 20),
               settings.evidence_retry_max_seconds)


def _grace_over(job: EvidenceJob, settings: SealSettings, now: datetime) -> bool:
    return (job.tsa_failing_since is not None
            and now - job.tsa_failing_since >= timedelta(seconds=settings.tsa_grace_seconds))


def issue_one(sessions: sessionmaker, maker: EvidenceMaker, settings: SealSettings) -> bool:
    """Claim one due agreement and make its evidence; False when none is due."""
    with sessions() as session:
        job = session.scalars(
            select(EvidenceJob).where(EvidenceJob.next_attempt_at <= func.now())
            .order_by(EvidenceJob.next_attempt_at).limit(1).with_for_update(skip_locked=True)
        ).first()
        if job is None:
            return False
        agreement = session.scalars(
            select(TrackedAgreement).where(TrackedAgreement.id == job.agreement_id)
            .with_for_update().execution_options(populate_existing=True)).one()
        if session.get(Receipt, agreement.id) is not None:
            session.delete(job)
            session.commit()
            return True
        now = utcnow()
        timestamped = not _grace_over(job, settings, now)
        try:
            # A savepoint: a failure undoes the evidence but keeps this job claimed.
            with session.begin_nested():
                maker.issue(session, agreement, Cause(job.correlation_id, job.causation_id),
                            lambda event: add_to_outbox(session, event), timestamped=timestamped)
        except Exception as exc:
            _failed(session, job, exc, settings, now)
            session.commit()
            return True
        session.delete(job)
        notify_on_commit(session, EVIDENCE_SETTLED_CHANNEL, agreement.id)
        session.commit()
        ISSUED.labels(agreement.outcome or "unknown").inc()
        if not timestamped:
            UNTIMESTAMPED.inc()
        return True


def _failed(session: Session, job: EvidenceJob, exc: Exception, settings: SealSettings,
            now: datetime) -> None:
    reason = f"{type(exc).__name__}: {exc}"[:2000]
    job.attempts += 1
    delay = _backoff(settings, job.attempts)
    if isinstance(exc, TsaUnavailable):
        FAILED.labels("tsa").inc()
        job.tsa_failing_since = job.tsa_failing_since or now
        grace_end = job.tsa_failing_since + timedelta(seconds=settings.tsa_grace_seconds)
        # Within the grace period the evidence stays "issuing": no receipt.failed.
        job.status, job.reason = "issuing", reason
        job.next_attempt_at = min(now + timedelta(seconds=delay), max(grace_end, now))
        log.warning("TSA unavailable; sealing retried",
                    extra={"agreement_id": job.agreement_id, "reason": reason})
        return
    FAILED.labels("evidence").inc()
    log.warning("evidence failed; retried", extra={"agreement_id": job.agreement_id, "reason": reason},
                exc_info=not isinstance(exc, LookupError))
    job.status, job.reason = "failed", reason
    job.next_attempt_at = now + timedelta(seconds=delay)
    notify_on_commit(session, EVIDENCE_SETTLED_CHANNEL, job.agreement_id)
    add_to_outbox(session, make_event(
        "receipt.failed", ReceiptFailed(agreement_id=job.agreement_id, reason=reason),
        producer=SERVICE, workspace_id=job.workspace_id,
        correlation_id=job.correlation_id, causation_id=job.causation_id,
    ))


def issue_due(sessions: sessionmaker, maker: Callable[[], EvidenceMaker],
              settings: SealSettings, limit: int = 100) -> int:
    """What the periodic job runs: everything due now (up to ``limit``)."""
    done = 0
    while done < limit and issue_one(sessions, maker(), settings):
        done += 1
    return done
