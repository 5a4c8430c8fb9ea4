"""The evidence's attempts: back-off, the TSA's grace period, giving up; and the issuer's use
of them through a fake unit of work."""

from datetime import UTC, datetime, timedelta

import pytest
from fakes import FakeJob, FakeUnitOfWork

from pactra_receipts.domain.attempts import AttemptPolicy
from pactra_receipts.domain.errors import EvidenceError, TsaUnavailable
from pactra_receipts.service_layer import issuer

NOW = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
POLICY = AttemptPolicy(retry_seconds=1.0, retry_max_seconds=10.0, tsa_grace_seconds=60.0, max_attempts=3)


def test_back_off_doubles_up_to_its_ceiling() -> None:
    assert [POLICY.backoff(n) for n in range(0, 7)] == [1.0, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


def test_an_attempt_is_recorded_before_its_work_and_a_crash_is_seen_next_time() -> None:
    job = FakeJob("agr_1", "ws_1")
    POLICY.start(job, NOW)
    assert (job.attempts, job.attempt_started_at, job.next_attempt_at) == (1, NOW, NOW + timedelta(seconds=1))
    assert POLICY.crashed(job)


def test_a_failing_tsa_counts_no_attempt_and_holds_the_evidence_no_longer_than_its_grace() -> None:
    job = FakeJob("agr_1", "ws_1")
    POLICY.start(job, NOW)
    POLICY.tsa_failed(job, NOW)
    assert (job.attempts, job.status, job.tsa_failing_since) == (0, "issuing", NOW)
    assert not POLICY.grace_over(job, NOW + timedelta(seconds=59))
    later = NOW + timedelta(seconds=55)
    POLICY.start(job, later)
    POLICY.tsa_failed(job, later)
    assert job.next_attempt_at == NOW + timedelta(seconds=60)  # the grace period's end, not later
    assert POLICY.grace_over(job, NOW + timedelta(seconds=60))


def test_evidence_stops_being_retried_after_its_attempts() -> None:
    job = FakeJob("agr_1", "ws_1")
    for expected in (False, False, True):
        POLICY.start(job, NOW)
        assert POLICY.failed(job, "document_unavailable") is expected
    assert (job.status, job.next_attempt_at) == ("failed", None)
    assert job.reason is not None and job.reason.startswith("document_unavailable: ")


class Maker:
    """Stands in for the EvidenceMaker: fails with ``error``, or issues."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error

    def issue(self, uow: FakeUnitOfWork, agreement: object, cause: object, *, timestamped: bool) -> dict:
        if self.error is not None:
            raise self.error
        uow.trails.add_receipt("agr_1", "ws_1", {"receipt_id": "rcpt_1"}, "00", None, None)
        return {}


def due(uow: FakeUnitOfWork) -> FakeUnitOfWork:
    uow.trails.lock("agr_1", "ws_1")
    uow.jobs.mark_due("agr_1", "ws_1", "corr_1", "evt_1")
    return uow


def test_issued_evidence_settles_its_job() -> None:
    uow = due(FakeUnitOfWork())
    assert issuer.issue_due(lambda: uow, Maker(), POLICY) == 1  # type: ignore[arg-type]
    assert uow.jobs.jobs == {} and uow.woken == ["agr_1"] and uow.published == []


@pytest.mark.parametrize(("error", "code"), [
    (EvidenceError("gone", "document_unavailable"), "document_unavailable"),
    (RuntimeError("bug"), "internal"),
])
def test_a_failure_publishes_receipt_failed_with_a_stable_reason(error: Exception, code: str) -> None:
    uow = due(FakeUnitOfWork())
    issuer.issue_one(lambda: uow, Maker(error), POLICY)  # type: ignore[arg-type]
    job = uow.jobs.jobs["agr_1"]
    assert (job.status, job.attempts, job.attempt_started_at) == ("failed", 1, None)
    [failed] = uow.published
    assert failed.type == "receipt.failed"
    assert failed.payload().code == code and "bug" not in failed.payload().reason
    assert failed.payload().will_retry and failed.correlation_id == "corr_1"


def test_a_failing_tsa_publishes_nothing_within_its_grace() -> None:
    uow = due(FakeUnitOfWork())
    issuer.issue_one(lambda: uow, Maker(TsaUnavailable("down")), POLICY)  # type: ignore[arg-type]
    job = uow.jobs.jobs["agr_1"]
    assert (job.status, job.attempts, uow.published) == ("issuing", 0, [])
    assert job.tsa_failing_since is not None
