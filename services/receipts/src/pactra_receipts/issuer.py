"""Issuing due evidence, in the issuer process: a periodic job claims ended agreements whose
evidence is due (``FOR UPDATE SKIP LOCKED``: replicas share the work), makes the evidence and
retries failures with back-off.

Nothing here holds a broker message: the event handler only recorded the ending and marked
the evidence due, in its own committed transaction. Each attempt is recorded (``attempts``,
``next_attempt_at`` pushed back, ``attempt_started_at``) and committed *before* the work
starts: a job whose work takes the process down (a decompression bomb, the OOM killer) is
not first in line again the moment a process restarts, its crash counts as an attempt, and
the next claim reports it (``crashed``). After ``evidence_max_attempts`` the evidence stays
``failed`` and only an operator retries it (``retry``, ``pactra-receipts retry-evidence``).

A failing TSA keeps the evidence ``issuing`` for the grace period (not counted as attempts);
after it the seal is made without a timestamp, said so. Any other failure is published as
``receipt.failed`` with a stable reason (pactra_contracts.evidence_reasons; the exception
goes to the log only); a later success publishes ``receipt.issued``, which supersedes it.
"""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from prometheus_client import Counter
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from pactra_contracts.events import ReceiptFailed, make_event
from pactra_contracts.evidence_reasons import evidence_reason
from pactra_contracts.times import utcnow
from pactra_platform.messaging import add_to_outbox, notify_on_commit

from .config import SealSettings
from .evidence import Cause, EvidenceError, EvidenceMaker, TsaUnavailable
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
    return min(settings.evidence_retry_seconds * 2 ** min(max(attempts, 1) - 1, 20),
               settings.evidence_retry_max_seconds)


def _grace_over(job: EvidenceJob, settings: SealSettings, now: datetime) -> bool:
    return (job.tsa_failing_since is not None
            and now - job.tsa_failing_since >= timedelta(seconds=settings.tsa_grace_seconds))


def issue_one(sessions: sessionmaker, maker: EvidenceMaker, settings: SealSettings) -> bool:
    """Claim one due agreement and make its evidence; False when none is due."""
    started = _start_attempt(sessions, settings)
    if started is None:
        return False
    if started is True:
        return True
    agreement_id, attempt_started_at = started
    with sessions() as session:
        job = session.scalars(
            select(EvidenceJob).where(EvidenceJob.agreement_id == agreement_id)
            .with_for_update(skip_locked=True)).first()
        # Gone (issued) or claimed again meanwhile: a slower attempt outlived its back-off.
        if job is None or job.attempt_started_at != attempt_started_at:
            return True
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
            # A savepoint: a failure undoes the evidence but keeps this job locked.
            with session.begin_nested():
                maker.issue(session, agreement, Cause(job.correlation_id, job.causation_id),
                            lambda event: add_to_outbox(session, event), timestamped=timestamped)
        except Exception as exc:
            job.attempt_started_at = None
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


def _start_attempt(sessions: sessionmaker, settings: SealSettings) -> tuple[str, datetime] | bool | None:
    """Claim the job due first and record the attempt, committed before any work: None when
    nothing is due, True when the claim settled the job without work to do (already issued,
    or out of attempts), else (agreement id, the attempt's start) for the work."""
    with sessions() as session:
        job = session.scalars(
            select(EvidenceJob).where(EvidenceJob.next_attempt_at <= func.now())
            .order_by(EvidenceJob.next_attempt_at).limit(1).with_for_update(skip_locked=True)
        ).first()
        if job is None:
            return None
        if session.get(Receipt, job.agreement_id) is not None:
            session.delete(job)
            session.commit()
            return True
        now = utcnow()
        if job.attempt_started_at is not None:
            # The last attempt never recorded how it ended: its process died in it.
            FAILED.labels("crashed").inc()
            log.error("evidence attempt ended with its process",
                      extra={"agreement_id": job.agreement_id, "attempts": job.attempts})
            job.attempt_started_at = None
            if _report(session, job, "crashed", settings, now):
                session.commit()
                return True
        job.attempts += 1
        job.attempt_started_at = now
        job.next_attempt_at = now + timedelta(seconds=_backoff(settings, job.attempts))
        session.commit()
        return job.agreement_id, now


def _failed(session: Session, job: EvidenceJob, exc: Exception, settings: SealSettings,
            now: datetime) -> None:
    if isinstance(exc, TsaUnavailable):
        FAILED.labels("tsa").inc()
        # Not an attempt that counts: the grace period bounds a TSA outage, and its back-off
        # grows with how long the TSA has been failing instead.
        job.attempts = max(job.attempts - 1, 0)
        job.tsa_failing_since = job.tsa_failing_since or now
        grace_end = job.tsa_failing_since + timedelta(seconds=settings.tsa_grace_seconds)
        failing_for = (now - job.tsa_failing_since).total_seconds()
        delay = min(max(settings.evidence_retry_seconds, failing_for), settings.evidence_retry_max_seconds)
        # Within the grace period the evidence stays "issuing": no receipt.failed.
        job.status = "issuing"
        job.next_attempt_at = min(now + timedelta(seconds=delay), max(grace_end, now))
        log.warning("TSA unavailable; sealing retried",
                    extra={"agreement_id": job.agreement_id, "error": str(exc)[:500]})
        return
    code = exc.code if isinstance(exc, EvidenceError) else "internal"
    FAILED.labels("evidence").inc()
    # The exception (and its cause) is for the operator: logged, never published.
    log.warning("evidence failed", extra={"agreement_id": job.agreement_id, "code": code,
                                          "attempts": job.attempts},
                exc_info=not isinstance(exc, LookupError))
    _report(session, job, code, settings, now)


def _livemode_of(session: Session, agreement_id: str) -> bool:
    tracked = session.get(TrackedAgreement, agreement_id)
    return tracked.livemode if tracked is not None else True


def _report(session: Session, job: EvidenceJob, code: str, settings: SealSettings,
            now: datetime) -> bool:
    """Mark the evidence failed with ``code`` and publish ``receipt.failed``; out of attempts,
    stop retrying it (True). The next attempt's time was set when this one started."""
    gave_up = job.attempts >= settings.evidence_max_attempts
    job.status, job.reason = "failed", evidence_reason(code)
    if gave_up:
        job.next_attempt_at = None
        log.error("evidence failed %s times; retried only when an operator asks "
                  "(pactra-receipts retry-evidence)", job.attempts,
                  extra={"agreement_id": job.agreement_id, "code": code})
    notify_on_commit(session, EVIDENCE_SETTLED_CHANNEL, job.agreement_id)
    add_to_outbox(session, make_event(
        "receipt.failed", ReceiptFailed(agreement_id=job.agreement_id, reason=job.reason, code=code,
                                        attempts=job.attempts, will_retry=not gave_up,
                                        livemode=_livemode_of(session, job.agreement_id)),
        producer=SERVICE, workspace_id=job.workspace_id,
        correlation_id=job.correlation_id, causation_id=job.causation_id,
    ))
    return gave_up


def retry(session: Session, agreement_ids: list[str] | None = None) -> list[str]:
    """An operator's retry: the failed evidence of ``agreement_ids`` (None: every agreement
    whose evidence stopped being retried) is due again, with a fresh count of attempts.
    Returns the agreements now due; the caller commits."""
    query = update(EvidenceJob).where(EvidenceJob.status == "failed")
    query = (query.where(EvidenceJob.agreement_id.in_(agreement_ids)) if agreement_ids is not None
             else query.where(EvidenceJob.next_attempt_at.is_(None)))
    retried = list(session.scalars(query.values(
        status="issuing", attempts=0, next_attempt_at=func.now(), attempt_started_at=None,
    ).returning(EvidenceJob.agreement_id)))
    if retried:
        notify_on_commit(session, EVIDENCE_DUE_CHANNEL)
    return retried


def issue_due(sessions: sessionmaker, maker: Callable[[], EvidenceMaker],
              settings: SealSettings, limit: int = 100) -> int:
    """What the periodic job runs: everything due now (up to ``limit``)."""
    done = 0
    while done < limit and issue_one(sessions, maker(), settings):
        done += 1
    return done
