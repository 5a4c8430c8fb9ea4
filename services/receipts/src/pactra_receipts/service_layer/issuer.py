"""Issuing due evidence, in the issuer process: a periodic job claims ended agreements whose
evidence is due (``FOR UPDATE SKIP LOCKED``: replicas share the work), makes the evidence and
retries failures with back-off (domain/attempts.py says when).

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
from datetime import datetime
from typing import Literal

from prometheus_client import Counter

from pactra_contracts.events import ReceiptFailed, make_event
from pactra_contracts.times import utcnow

from ..domain.attempts import AttemptPolicy, EvidenceJob
from ..domain.errors import EvidenceError, TsaUnavailable
from .evidence import Cause, EvidenceMaker
from .unit_of_work import ReceiptsUnitOfWork

log = logging.getLogger(__name__)
SERVICE = "receipts"

ISSUED = Counter("pactra_receipts_evidence_issued", "Receipts issued by this worker", ["outcome"])
FAILED = Counter("pactra_receipts_evidence_failed", "Failed attempts to make evidence", ["kind"])
UNTIMESTAMPED = Counter("pactra_receipts_seals_without_timestamp",
                        "Seals made without a timestamp after the TSA's grace period")

MakeUnitOfWork = Callable[[], ReceiptsUnitOfWork]


def issue_one(make_uow: MakeUnitOfWork, maker: EvidenceMaker, policy: AttemptPolicy) -> bool:
    """Claim one due agreement and make its evidence; False when none is due."""
    started = _start_attempt(make_uow, policy)
    if started is None:
        return False
    if started is True:
        return True
    agreement_id, attempt_started_at = started
    with make_uow() as uow:
        job = uow.jobs.claim(agreement_id)
        # Gone (issued) or claimed again meanwhile: a slower attempt outlived its back-off.
        if job is None or job.attempt_started_at != attempt_started_at:
            return True
        agreement = uow.trails.locked(job.agreement_id)
        if uow.trails.has_receipt(agreement.id):
            uow.jobs.settle(job)
            uow.commit()
            return True
        now = utcnow()
        timestamped = not policy.grace_over(job, now)
        try:
            # A savepoint: a failure undoes the evidence but keeps this job locked.
            with uow.savepoint():
                maker.issue(uow, agreement, Cause(job.correlation_id, job.causation_id),
                            timestamped=timestamped)
        except Exception as exc:
            _failed(uow, job, exc, policy, now)
            uow.commit()
            return True
        uow.jobs.settle(job)
        uow.settled(agreement.id)
        uow.commit()
        ISSUED.labels(agreement.outcome or "unknown").inc()
        if not timestamped:
            UNTIMESTAMPED.inc()
        return True


def _start_attempt(make_uow: MakeUnitOfWork,
                   policy: AttemptPolicy) -> tuple[str, datetime] | Literal[True] | None:
    """Claim the job due first and record the attempt, committed before any work: None when
    nothing is due, True when the claim settled the job without work to do (already issued,
    or out of attempts), else (agreement id, the attempt's start) for the work."""
    with make_uow() as uow:
        job = uow.jobs.claim_due()
        if job is None:
            return None
        if uow.trails.has_receipt(job.agreement_id):
            uow.jobs.settle(job)
            uow.commit()
            return True
        now = utcnow()
        if policy.crashed(job):
            FAILED.labels("crashed").inc()
            log.error("evidence attempt ended with its process",
                      extra={"agreement_id": job.agreement_id, "attempts": job.attempts})
            if _report(uow, job, "crashed", policy):
                uow.commit()
                return True
        policy.start(job, now)
        uow.commit()
        return job.agreement_id, now


def _failed(uow: ReceiptsUnitOfWork, job: EvidenceJob, exc: Exception, policy: AttemptPolicy,
            now: datetime) -> None:
    if isinstance(exc, TsaUnavailable):
        FAILED.labels("tsa").inc()
        policy.tsa_failed(job, now)
        log.warning("TSA unavailable; sealing retried",
                    extra={"agreement_id": job.agreement_id, "error": str(exc)[:500]})
        return
    code = exc.code if isinstance(exc, EvidenceError) else "internal"
    FAILED.labels("evidence").inc()
    # The exception (and its cause) is for the operator: logged, never published.
    log.warning("evidence failed", extra={"agreement_id": job.agreement_id, "code": code,
                                          "attempts": job.attempts},
                exc_info=not isinstance(exc, LookupError))
    _report(uow, job, code, policy)


def _report(uow: ReceiptsUnitOfWork, job: EvidenceJob, code: str, policy: AttemptPolicy) -> bool:
    """Mark the evidence failed with ``code`` and publish ``receipt.failed``; out of attempts,
    it stops being retried (True)."""
    gave_up = policy.failed(job, code)
    if gave_up:
        log.error("evidence failed %s times; retried only when an operator asks "
                  "(pactra-receipts retry-evidence)", job.attempts,
                  extra={"agreement_id": job.agreement_id, "code": code})
    uow.settled(job.agreement_id)
    uow.publish(make_event(
        "receipt.failed", ReceiptFailed(agreement_id=job.agreement_id, reason=job.reason, code=code,
                                        attempts=job.attempts, will_retry=not gave_up,
                                        livemode=uow.trails.livemode_of(job.agreement_id)),
        producer=SERVICE, workspace_id=job.workspace_id,
        correlation_id=job.correlation_id, causation_id=job.causation_id,
    ))
    return gave_up


def retry(make_uow: MakeUnitOfWork, agreement_ids: list[str] | None = None) -> list[str]:
    """An operator's retry: the failed evidence of ``agreement_ids`` (None: every agreement
    whose evidence stopped being retried) is due again, with a fresh count of attempts.
    Returns the agreements now due."""
    with make_uow() as uow:
        retried = uow.jobs.retry(agreement_ids)
        uow.commit()
    return retried


def issue_due(make_uow: MakeUnitOfWork, maker: EvidenceMaker, policy: AttemptPolicy,
              limit: int = 100) -> int:
    """What the periodic job runs: everything due now (up to ``limit``)."""
    done = 0
    while done < limit and issue_one(make_uow, maker, policy):
        done += 1
    return done
