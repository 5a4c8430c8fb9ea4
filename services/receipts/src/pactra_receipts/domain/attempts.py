"""The evidence's attempts (issue 10, item 3): when an ended agreement's evidence is tried
again, when a failing TSA stops holding it back, and when it stops being retried by itself.

Each attempt is recorded before its work starts, so an attempt that takes its process down
still counts and still pushes the next one back; after ``max_attempts`` the evidence stays
``failed`` until an operator retries it. A TSA outage within its grace period is not an
attempt that counts: the grace period bounds it."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from pactra_contracts.evidence_reasons import evidence_reason

ISSUING, FAILED = "issuing", "failed"


class EvidenceJob(Protocol):
    """An ended agreement whose evidence is due."""

    agreement_id: str
    workspace_id: str
    status: str  # issuing | failed
    attempts: int
    next_attempt_at: datetime | None  # None: retried only when an operator asks
    attempt_started_at: datetime | None  # set while an attempt runs
    reason: str | None
    tsa_failing_since: datetime | None
    correlation_id: str | None  # of the event that ended the agreement
    causation_id: str | None


@dataclass(frozen=True)
class AttemptPolicy:
    retry_seconds: float = 1.0  # the first back-off, doubling ...
    retry_max_seconds: float = 300.0  # ... up to this
    tsa_grace_seconds: float = 3600.0
    max_attempts: int = 10

    def backoff(self, attempts: int) -> float:
        return min(self.retry_seconds * 2.0 ** min(max(attempts, 1) - 1, 20), self.retry_max_seconds)

    @staticmethod
    def crashed(job: EvidenceJob) -> bool:
        """The last attempt never recorded how it ended: its process died in it."""
        return job.attempt_started_at is not None

    def start(self, job: EvidenceJob, now: datetime) -> None:
        """Record an attempt starting now, and when the next may start if this one fails."""
        job.attempts += 1
        job.attempt_started_at = now
        job.next_attempt_at = now + timedelta(seconds=self.backoff(job.attempts))

    def grace_over(self, job: EvidenceJob, now: datetime) -> bool:
        """The TSA has failed for this agreement longer than it may hold the evidence back:
        seal without a timestamp."""
        return (job.tsa_failing_since is not None
                and now - job.tsa_failing_since >= timedelta(seconds=self.tsa_grace_seconds))

    def tsa_failed(self, job: EvidenceJob, now: datetime) -> None:
        """The TSA failed: not an attempt that counts; the evidence stays ``issuing`` (no
        receipt.failed) and its back-off grows with how long the TSA has been failing, never
        past the end of the grace period."""
        job.attempt_started_at = None
        job.attempts = max(job.attempts - 1, 0)
        job.tsa_failing_since = job.tsa_failing_since or now
        grace_end = job.tsa_failing_since + timedelta(seconds=self.tsa_grace_seconds)
        failing_for = (now - job.tsa_failing_since).total_seconds()
        delay = min(max(self.retry_seconds, failing_for), self.retry_max_seconds)
        job.status = ISSUING
        job.next_attempt_at = min(now + timedelta(seconds=delay), max(grace_end, now))

    def failed(self, job: EvidenceJob, code: str) -> bool:
        """Mark the evidence failed with ``code``'s stable reason; True when it is out of
        attempts and stops being retried by itself. (The next attempt's time was set when
        this one started.)"""
        job.attempt_started_at = None
        gave_up = job.attempts >= self.max_attempts
        job.status, job.reason = FAILED, evidence_reason(code)
        if gave_up:
            job.next_attempt_at = None
        return gave_up
