"""The analysis job's states and the rules of the workspace's AI settings (domain only)."""

from datetime import UTC, datetime, timedelta

import pytest

from pactra_ai.domain.analysis import (
    FAILED,
    LLM,
    MAX_ATTEMPTS,
    NEW_WORKSPACE,
    OFFLINE,
    PENDING,
    READY,
    RUNNING,
    AiChoices,
    Analysis,
    CachedResult,
    EngineModels,
    auto_analysis_wanted,
    month_of,
)
from pactra_ai.domain.errors import IllegalTransition
from pactra_ai.domain.results import AnalysisResult, Clause

NOW = datetime(2026, 3, 31, 23, 59, tzinfo=UTC)
STALE_BEFORE = NOW - timedelta(minutes=10)
MODELS = EngineModels(offline="offline-1", llm="llm-1")
RESULT = AnalysisResult("Parties: Acme.", [Clause("Parties", "Acme", 1, 0, 4, 0.91234)], "llm", "llm-1")


def analysis(status: str, *, attempts: int = 1, claimed_at: datetime | None = NOW) -> Analysis:
    job = Analysis.requested("ana_1", "ws_1", "doc_1", "sha", OFFLINE, "offline-1", NOW)
    job.status, job.attempts, job.claimed_at = status, attempts, claimed_at
    return job


# Every action on an analysis, and the statuses it is legal from.
ACTIONS = {
    "claim": (lambda a: a.claim(NOW, STALE_BEFORE), (PENDING,)),
    "succeed": (lambda a: a.succeed(RESULT, NOW), (RUNNING,)),
    "fail": (lambda a: a.fail("document_gone", NOW), (RUNNING,)),
    "answer_from": (lambda a: a.answer_from(CachedResult("s", [])), (PENDING,)),
    "refuse": (lambda a: a.refuse("quota_exceeded"), (PENDING,)),
}


@pytest.mark.parametrize("status", [PENDING, RUNNING, READY, FAILED])
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_every_action_from_every_status(status: str, action: str) -> None:
    act, legal_from = ACTIONS[action]
    job = analysis(status)  # claimed just now: a running one is not stale
    if status in legal_from:
        act(job)
        assert job.status != status
    else:
        with pytest.raises(IllegalTransition):
            act(job)
        assert job.status == status


def test_a_claim_counts_an_attempt_and_a_vanished_runner_is_claimed_again() -> None:
    job = analysis(PENDING, attempts=0, claimed_at=None)
    job.claim(NOW, STALE_BEFORE)
    assert (job.status, job.attempts, job.claimed_at) == (RUNNING, 1, NOW)
    vanished = analysis(RUNNING, claimed_at=STALE_BEFORE - timedelta(seconds=1))
    vanished.claim(NOW, STALE_BEFORE)
    assert (vanished.status, vanished.attempts) == (RUNNING, 2)


def test_success_keeps_the_result_and_its_engine() -> None:
    job = analysis(RUNNING)
    job.succeed(RESULT, NOW)
    assert (job.status, job.summary, job.engine, job.model) == (READY, "Parties: Acme.", "llm", "llm-1")
    assert job.clauses == [{"type": "Parties", "text": "Acme", "page": 1, "start": 0, "end": 4,
                            "confidence": 0.912}]


@pytest.mark.parametrize(("error", "attempts", "status"), [
    ("engine_error: Timeout", 1, PENDING),
    ("engine_error: Timeout", MAX_ATTEMPTS - 1, PENDING),
    ("engine_error: Timeout", MAX_ATTEMPTS, FAILED),
    ("settings_unavailable", 1, PENDING),
    ("settings_unavailable", MAX_ATTEMPTS, FAILED),
    ("ai_disabled", 1, FAILED),
    ("engine_changed", 1, FAILED),
    ("document_gone", 1, FAILED),
    ("quota_exceeded", 1, FAILED),
])
def test_which_failures_get_another_attempt(error: str, attempts: int, status: str) -> None:
    job = analysis(RUNNING, attempts=attempts)
    assert job.fail(error, NOW) is (status == FAILED)
    assert (job.status, job.error) == (status, error)


def test_starting_over_drops_what_it_held() -> None:
    job = analysis(RUNNING, attempts=2)
    job.succeed(RESULT, NOW)
    job.start_over("other", LLM, "llm-1", NOW)
    assert (job.status, job.sha256, job.engine, job.summary, job.clauses, job.attempts,
            job.claimed_at) == (PENDING, "other", LLM, None, None, 0, None)


def test_a_running_analysis_shows_as_pending() -> None:
    assert [analysis(s).public_status for s in (PENDING, RUNNING, READY, FAILED)] == [
        PENDING, PENDING, READY, FAILED]


@pytest.mark.parametrize(("status", "answers"), [
    (PENDING, True), (RUNNING, True), (READY, True), (FAILED, False)])
def test_an_analysis_answers_the_same_request_unless_it_failed(status: str, answers: bool) -> None:
    job = analysis(status)
    assert job.answers("sha", OFFLINE, "offline-1") is answers
    assert not job.answers("other", OFFLINE, "offline-1")
    assert not job.answers("sha", LLM, "llm-1")


@pytest.mark.parametrize(("chosen", "configured", "engine"), [
    (OFFLINE, True, (OFFLINE, "offline-1")),
    (LLM, True, (LLM, "llm-1")),
    # Without a provider, a workspace that chose the LLM gets the offline engine.
    (LLM, False, (OFFLINE, "offline-1")),
])
def test_engine_choice(chosen: str, configured: bool, engine: tuple[str, str]) -> None:
    models = MODELS if configured else EngineModels(offline="offline-1", llm=None)
    assert models.chosen(AiChoices(True, chosen, False)) == engine


def test_what_the_settings_refuse() -> None:
    assert MODELS.refusal(AiChoices(True, LLM, False), LLM) is None
    assert MODELS.refusal(AiChoices(False, LLM, False), LLM) == "ai_disabled"
    assert MODELS.refusal(AiChoices(True, OFFLINE, False), LLM) == "engine_changed"
    assert MODELS.refusal(AiChoices(True, LLM, False), OFFLINE) == "engine_changed"


@pytest.mark.parametrize(("enabled", "auto", "existing", "wanted"), [
    (True, True, False, True),
    (True, True, True, False),
    (True, False, False, False),
    (False, True, False, False),
])
def test_auto_analysis_decision(enabled: bool, auto: bool, existing: bool, wanted: bool) -> None:
    choices = AiChoices(enabled, OFFLINE, auto)
    assert auto_analysis_wanted(choices, analysis(READY) if existing else None) is wanted


def test_an_update_changes_only_the_ai_settings_it_names() -> None:
    changed = NEW_WORKSPACE.changed({"ai_engine": LLM, "name": "Acme", "retention_days": 30})
    assert changed == AiChoices(ai_enabled=True, ai_engine=LLM, ai_auto_analyze=False)


def test_tokens_count_by_utc_month() -> None:
    assert month_of(NOW) == "2026-03"
