"""Requesting, running and the event handlers, on fakes: the gateway's settings, the documents
service, the engines and storage are all in memory."""

import pytest

from pactra_ai.domain.analysis import FAILED, LLM, MAX_ATTEMPTS, OFFLINE, PENDING, READY, AiChoices
from pactra_ai.domain.errors import (
    AiDisabled,
    AnalysisNotFound,
    DocumentNotFound,
    SettingsUnavailable,
    TokensSpent,
)
from pactra_ai.service_layer import analyses, handlers, purging
from pactra_ai.service_layer.dependencies import AiService
from pactra_contracts.events import (
    DocumentDeleted,
    DocumentUploaded,
    Person,
    WorkspaceCreated,
    WorkspaceDeletionRequested,
    WorkspaceUpdated,
    make_event,
)

from .fakes import LLM_MODEL, OFFLINE_MODEL, FakeUnitOfWork, fake_service

WS, DOC, TEXT = "ws_1", "doc_1", "Acme agrees to deliver."


@pytest.fixture
def ai() -> tuple[AiService, FakeUnitOfWork]:
    service, uow = fake_service()
    service.documents.texts[(WS, DOC)] = TEXT
    return service, uow


def choose(service: AiService, **choices: bool | str) -> None:
    service.settings_peer.choices[WS] = AiChoices(**{
        "ai_enabled": True, "ai_engine": OFFLINE, "ai_auto_analyze": False, **choices})


def uploaded(document_id: str = DOC) -> object:
    return make_event("document.uploaded", DocumentUploaded(
        document_id=document_id, sha256="sha-up", size=10, pages=1, filename="a.pdf"),
        producer="documents", workspace_id=WS)


# --- AI off, and a gateway that does not answer -----------------------------------------------


def test_ai_off_refuses_to_start_or_show_and_records_nothing(ai) -> None:
    service, uow = ai
    choose(service, ai_enabled=False)
    with pytest.raises(AiDisabled):
        analyses.request(service, WS, DOC, "req_1")
    with pytest.raises(AiDisabled):
        analyses.get(service, WS, DOC)
    assert uow.analyses.rows == {} and uow.published == []


def test_unreadable_settings_refuse_the_request(ai) -> None:
    service, uow = ai
    service.settings_peer.choices[WS] = None
    with pytest.raises(SettingsUnavailable):
        analyses.request(service, WS, DOC, "req_1")
    assert uow.analyses.rows == {}


def test_an_unknown_document_and_an_unrequested_analysis_are_not_found(ai) -> None:
    service, _ = ai
    with pytest.raises(DocumentNotFound):
        analyses.request(service, WS, "doc_unknown", "req_1")
    with pytest.raises(AnalysisNotFound):
        analyses.get(service, WS, DOC)


# --- a request, the runner, the cache ---------------------------------------------------------


def test_a_request_records_a_pending_analysis_counted_under_the_request(ai) -> None:
    service, uow = ai
    analysis = analyses.request(service, WS, DOC, "req_1")
    assert analysis is not None and (analysis.status, analysis.engine, analysis.model) == (
        PENDING, OFFLINE, OFFLINE_MODEL)
    assert [(e["metric"], e["quantity"], e["source_event_id"]) for e in uow.events("usage.recorded")] == [
        ("ai_analyses", 1, "analysis:req_1")]
    assert uow.wakeups == 1
    # Asked again while it waits: the same analysis, nothing counted twice.
    assert analyses.request(service, WS, DOC, "req_2") is analysis
    assert len(uow.published) == 1


def test_the_api_shows_it_as_the_wire_has_it(ai) -> None:
    service, _ = ai
    pending = analyses.request(service, WS, DOC, "req_1")
    assert pending is not None
    pending.status = "running"  # the runner's, not the reader's: still pending to the API
    assert list(analyses.analysis_out(pending).model_dump(mode="json").items()) == [
        ("id", pending.id), ("document_id", DOC), ("status", PENDING), ("summary", None),
        ("clauses", []), ("engine", OFFLINE), ("model", OFFLINE_MODEL), ("advisory", True)]
    pending.status, pending.error = FAILED, "document_gone"
    assert list(analyses.analysis_out(pending).model_dump(mode="json"))[-2:] == ["advisory", "error"]


def test_the_runner_finishes_it_and_the_workspace_cache_answers_the_same_bytes(ai) -> None:
    service, uow = ai
    analyses.request(service, WS, DOC, "req_1")
    assert analyses.run_pending(service) == 1
    done = analyses.get(service, WS, DOC)
    assert (done.status, done.summary, done.attempts) == (READY, "Parties: Acme.", 1)
    assert uow.events("analysis.completed") == [{"document_id": DOC, "status": READY, "engine": OFFLINE}]
    body = analyses.analysis_out(done).model_dump(mode="json")
    assert body["clauses"] == [{"type": "Parties", "text": "Acme", "page": 1, "start": 0, "end": 4,
                                "confidence": 0.9}] and body["advisory"] is True and "error" not in body
    # Another document with the same bytes, in the same workspace: ready at once, not run.
    service.documents.texts[(WS, "doc_2")] = TEXT
    again = analyses.request(service, WS, "doc_2", "req_2")
    assert again is not None and again.status == READY and again.summary == done.summary
    assert service.engines.offline_engine.texts == [TEXT]
    assert analyses.run_pending(service) == 0


def test_a_request_for_other_bytes_starts_over_and_the_old_run_is_moot(ai) -> None:
    service, uow = ai
    analyses.request(service, WS, DOC, "req_1")

    def document_replaced() -> None:
        service.documents.texts[(WS, DOC)] = "Beta replaces it."
        analyses.request(service, WS, DOC, "req_2")

    service.engines.offline_engine.before = document_replaced
    analyses.run_one(service)
    restarted = analyses.get(service, WS, DOC)
    assert (restarted.status, restarted.summary) == (PENDING, None)
    assert restarted.sha256 == "sha-of-Beta replaces it."
    assert uow.events("analysis.completed") == []


def test_engine_errors_are_retried_a_bounded_number_of_times(ai) -> None:
    service, uow = ai
    analyses.request(service, WS, DOC, "req_1")

    def crash() -> None:
        raise TimeoutError

    service.engines.offline_engine.before = crash
    assert analyses.run_pending(service) == MAX_ATTEMPTS
    failed = analyses.get(service, WS, DOC)
    assert (failed.status, failed.attempts) == (FAILED, MAX_ATTEMPTS)
    assert failed.error == "engine_error: TimeoutError"
    assert analyses.analysis_out(failed).model_dump(mode="json")["error"] == "engine_error: TimeoutError"
    assert uow.events("analysis.completed") == [{"document_id": DOC, "status": FAILED, "engine": OFFLINE}]


def test_a_document_gone_before_the_run_fails_at_once(ai) -> None:
    service, _ = ai
    analyses.request(service, WS, DOC, "req_1")
    del service.documents.texts[(WS, DOC)]
    analyses.run_one(service)
    gone = analyses.get(service, WS, DOC)
    assert (gone.status, gone.error, gone.attempts) == (FAILED, "document_gone", 1)


# --- the settings as they are when the runner runs: AI off, engine switched -------------------


def test_ai_turned_off_while_pending_stops_the_analysis_before_any_text_is_read(ai) -> None:
    service, _ = ai
    analyses.request(service, WS, DOC, "req_1")
    choose(service, ai_enabled=False)
    analyses.run_one(service)
    assert service.engines.offline_engine.texts == []
    choose(service)
    stopped = analyses.get(service, WS, DOC)
    assert (stopped.status, stopped.error) == (FAILED, "ai_disabled")


def test_switching_away_from_the_llm_stops_what_is_pending(ai) -> None:
    service, _ = ai
    choose(service, ai_engine=LLM)
    pending = analyses.request(service, WS, DOC, "req_1")
    assert pending is not None and (pending.engine, pending.model) == (LLM, LLM_MODEL)
    choose(service, ai_engine=OFFLINE)
    analyses.run_one(service)
    assert service.engines.llm_engine.texts == [] and service.engines.offline_engine.texts == []
    stopped = analyses.get(service, WS, DOC)
    assert (stopped.status, stopped.error) == (FAILED, "engine_changed")


def test_a_switch_while_the_llm_runs_stops_it_before_its_next_request(ai) -> None:
    service, _ = ai
    choose(service, ai_engine=LLM)
    analyses.request(service, WS, DOC, "req_1")
    service.engines.llm_engine.before = lambda: choose(service, ai_engine=OFFLINE)
    analyses.run_one(service)
    assert service.engines.llm_engine.texts == []
    stopped = analyses.get(service, WS, DOC)
    assert (stopped.status, stopped.error) == (FAILED, "engine_changed")


def test_a_gateway_that_does_not_answer_the_runner_leaves_it_for_another_attempt(ai) -> None:
    service, _ = ai
    analyses.request(service, WS, DOC, "req_1")
    service.settings_peer.choices[WS] = None
    analyses.run_one(service)
    choose(service)
    waiting = analyses.get(service, WS, DOC)
    assert (waiting.status, waiting.error) == (PENDING, "settings_unavailable")
    analyses.run_one(service)
    assert analyses.get(service, WS, DOC).status == READY


def test_llm_tokens_are_counted_against_the_month_and_a_spent_month_refuses() -> None:
    service, uow = fake_service(monthly_tokens=150)
    service.documents.texts[(WS, DOC)] = TEXT
    choose(service, ai_engine=LLM)
    analyses.request(service, WS, DOC, "req_1")
    analyses.run_one(service)
    assert service.engines.budgets == [150]
    assert [e["quantity"] for e in uow.events("usage.recorded") if e["metric"] == "llm_tokens"] == [100]
    service.documents.texts[(WS, "doc_2")] = "Beta agrees."
    analyses.request(service, WS, "doc_2", "req_2")
    analyses.run_one(service)
    assert service.engines.budgets == [150, 50]
    with pytest.raises(TokensSpent):
        analyses.request(service, WS, "doc_3", "req_3")


def test_without_a_provider_a_workspace_that_chose_the_llm_gets_the_offline_engine() -> None:
    service, _ = fake_service(llm=False)
    service.documents.texts[(WS, DOC)] = TEXT
    choose(service, ai_engine=LLM)
    analysis = analyses.request(service, WS, DOC, "req_1")
    assert analysis is not None and analysis.engine == OFFLINE


# --- event handlers: auto-analysis, deletion, the settings mirror, the purge ------------------


def test_an_upload_with_auto_analysis_gets_a_pending_analysis_counted_under_its_event(ai) -> None:
    service, uow = ai
    choose(service, ai_auto_analyze=True)
    event = uploaded()
    with uow:
        handlers.on_document_uploaded(event, uow, service)
        uow.commit()
    analysis = uow.analyses.for_document(WS, DOC)
    assert analysis is not None and (analysis.status, analysis.sha256) == (PENDING, "sha-up")
    assert service.quotas.reserved == [(f"auto:{event.id}", {"ai_analyses": 1}, ())]
    assert [e["source_event_id"] for e in uow.events("usage.recorded")] == [f"auto:{event.id}"]
    assert uow.wakeups == 1


@pytest.mark.parametrize("choices", [
    {"ai_auto_analyze": False}, {"ai_auto_analyze": True, "ai_enabled": False}])
def test_an_upload_without_auto_analysis_gets_none(ai, choices: dict) -> None:
    service, uow = ai
    choose(service, **choices)
    handlers.on_document_uploaded(uploaded(), uow, service)
    assert uow.analyses.rows == {} and service.quotas.reserved == []


def test_an_upload_already_analysed_gets_no_second_analysis(ai) -> None:
    service, uow = ai
    choose(service, ai_auto_analyze=True)
    first = analyses.request(service, WS, DOC, "req_1")
    handlers.on_document_uploaded(uploaded(), uow, service)
    assert list(uow.analyses.rows.values()) == [first] and service.quotas.reserved == []


def test_an_auto_analysis_the_plan_refuses_is_recorded_failed_and_not_counted(ai) -> None:
    service, uow = ai
    choose(service, ai_auto_analyze=True, ai_engine=LLM)
    service.quotas.refuse = True
    with uow:
        handlers.on_document_uploaded(uploaded(), uow, service)
        uow.commit()
    refused = uow.analyses.for_document(WS, DOC)
    assert refused is not None and (refused.status, refused.error, refused.engine) == (
        FAILED, "quota_exceeded", LLM)
    assert uow.published == [] and uow.wakeups == 0


def test_an_llm_auto_analysis_asks_the_plan_for_tokens_too(ai) -> None:
    service, uow = ai
    choose(service, ai_auto_analyze=True, ai_engine=LLM)
    handlers.on_document_uploaded(uploaded(), uow, service)
    assert service.quotas.reserved[0][2] == ("llm_tokens",)


def test_a_deleted_document_takes_its_analysis_along(ai) -> None:
    service, uow = ai
    analyses.request(service, WS, DOC, "req_1")
    handlers.on_document_deleted(make_event("document.deleted", DocumentDeleted(document_id=DOC),
                                            producer="documents", workspace_id=WS), uow)
    assert uow.analyses.rows == {}


def test_the_settings_mirror_follows_creation_and_updates_in_any_order() -> None:
    _, uow = fake_service()
    update = make_event("workspace.updated", WorkspaceUpdated(
        workspace_id=WS, changes={"ai_engine": LLM, "name": "Acme"}), producer="gateway", workspace_id=WS)
    handlers.on_workspace_updated(update, uow)  # overtook the creation
    created = make_event("workspace.created", WorkspaceCreated(
        workspace_id=WS, name="Acme", plan="free", owner=Person(name="A", email="a@example.com")),
        producer="gateway", workspace_id=WS)
    handlers.on_workspace_created(created, uow)
    assert uow.choices.get(WS) == AiChoices(ai_enabled=True, ai_engine=LLM, ai_auto_analyze=False)
    handlers.on_workspace_created(make_event("workspace.created", WorkspaceCreated(
        workspace_id="ws_2", name="B", plan="free", owner=Person(name="B", email="b@example.com")),
        producer="gateway", workspace_id="ws_2"), uow)
    assert uow.choices.get("ws_2") == AiChoices(ai_enabled=True, ai_engine=OFFLINE, ai_auto_analyze=False)


def test_a_deleted_workspace_is_purged_and_reported(ai) -> None:
    service, uow = ai
    analyses.request(service, WS, DOC, "req_1")
    analyses.run_one(service)
    purging.on_deletion_requested(make_event(
        "workspace.deletion_requested", WorkspaceDeletionRequested(workspace_id=WS, deletion_id="del_1"),
        producer="gateway", workspace_id=None), uow)
    assert uow.purged == {"analyses": 1, "analysis_cache": 1}
    assert uow.analyses.rows == {} and uow.cache.results == {}
