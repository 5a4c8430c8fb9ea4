"""Requesting, reading and running analyses. Knows nothing of Flask or RabbitMQ.

A request only records a pending analysis; the worker claims pending rows (``FOR UPDATE SKIP
LOCKED``), commits the claim, fetches the text and runs the engine outside any transaction,
then stores the result and publishes ``analysis.completed`` in one commit.

Whether a workspace allows an analysis is asked of the gateway, which owns the settings, at
each point where one would start: the request, an upload with auto-analysis (handlers.py),
the runner before it reads the text, and the LLM engine before every request to the provider.
So a setting holds from the moment ``PATCH /v1/workspace`` answered, for analyses already
pending too; the ``workspace.updated`` event only reaches this service later.
"""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pactra_contracts.events import AnalysisCompleted, Event, UsageRecorded, make_event
from pactra_contracts.ids import new_id
from pactra_contracts.resources import Analysis as AnalysisOut
from pactra_contracts.resources import Clause as ClauseOut
from pactra_contracts.times import utcnow

from ..config import SERVICE
from ..domain.analysis import FAILED, LLM, OFFLINE, RUNNING, AiChoices, Analysis, CachedResult, month_of
from ..domain.errors import (
    AiDisabled,
    AnalysisExists,
    AnalysisNotFound,
    DocumentGone,
    DocumentNotFound,
    SettingsUnavailable,
    TokensSpent,
    Withdrawn,
)
from ..domain.results import AnalysisResult, Engine, analyze_text
from .dependencies import AiService
from .unit_of_work import AbstractUnitOfWork

log = logging.getLogger(__name__)


def analysis_out(analysis: Analysis) -> AnalysisOut:
    """The analysis as the API shows it (and a workspace export holds it)."""
    failed = {"error": analysis.error} if analysis.status == FAILED else {}
    return AnalysisOut(
        id=analysis.id, document_id=analysis.document_id, status=analysis.public_status,
        summary=analysis.summary, clauses=[ClauseOut(**clause) for clause in analysis.clauses or []],
        engine=analysis.engine, model=analysis.model, advisory=True, **failed)


def refusal(service: AiService, workspace_id: str, engine: str) -> str | None:
    """Why an analysis with ``engine`` may not start (or go on) now, or None: asks the
    gateway, so it is the setting as of this moment."""
    try:
        choices = service.settings_peer.ai_choices(workspace_id)
    except SettingsUnavailable:
        log.warning("the gateway did not give workspace %s's AI settings", workspace_id)
        return "settings_unavailable"
    return service.models.refusal(choices, engine)


def _require_enabled(service: AiService, workspace_id: str) -> AiChoices:
    choices = service.settings_peer.ai_choices(workspace_id)
    if not choices.ai_enabled:
        raise AiDisabled(workspace_id)
    return choices


def get(service: AiService, workspace_id: str, document_id: str) -> Analysis:
    _require_enabled(service, workspace_id)
    with service.uow() as uow:
        analysis = uow.analyses.for_document(workspace_id, document_id)
        if analysis is None:
            raise AnalysisNotFound(document_id)
        return analysis


def request(service: AiService, workspace_id: str, document_id: str,
            request_id: str | None) -> Analysis | None:
    """Start (or return) the document's analysis; None when a concurrent request recorded
    it first (it is pending or done). ``request_id``: the API request's, under which the
    gateway reserved the analysis against the plan."""
    engine, model = service.models.chosen(_require_enabled(service, workspace_id))
    if engine == LLM:
        with service.uow() as uow:
            if uow.tokens.used(workspace_id, month_of(utcnow())) >= service.monthly_tokens:
                raise TokensSpent(workspace_id)
    meta = service.documents.metadata(workspace_id, document_id)
    if meta is None:
        raise DocumentNotFound(document_id)
    try:
        return _record_request(service, workspace_id, document_id, str(meta["sha256"]), engine,
                               model, request_id)
    except AnalysisExists:
        return None


def _record_request(service: AiService, workspace_id: str, document_id: str, sha256: str,
                    engine: str, model: str, request_id: str | None) -> Analysis:
    now = utcnow()
    with service.uow() as uow:
        analysis = uow.analyses.for_document(workspace_id, document_id, lock=True)
        if analysis is not None and analysis.answers(sha256, engine, model):
            return analysis
        if analysis is None:
            analysis = Analysis.requested(new_id("ana"), workspace_id, document_id, sha256, engine,
                                          model, now)
            uow.analyses.add(analysis)
        else:
            analysis.start_over(sha256, engine, model, now)
        # The cache is the workspace's own: another's would tell it who else holds these bytes.
        cached = uow.cache.get(workspace_id, sha256, engine, model)
        if cached is not None:
            analysis.answer_from(cached)
            uow.publish(_completed(analysis))
            uow.commit()
            return analysis
        # A new analysis: the gateway reserved it under "analysis:<request id>" before it
        # forwarded the request (402 when the plan blocks and none is left, or, for the LLM,
        # no token is left); this event confirms it (pactra_gateway.entrypoints.quota_gate).
        source_id = (f"analysis:{request_id}" if request_id
                     else f"{analysis.id}:requested:{_millis(now)}")
        uow.publish(usage_recorded(workspace_id, "ai_analyses", 1, source_id, now))
        uow.wake_runner()
        uow.commit()
        return analysis


def _completed(analysis: Analysis) -> Event[Any]:
    return make_event("analysis.completed", AnalysisCompleted(
        document_id=analysis.document_id, status=analysis.status, engine=analysis.engine),
        producer=SERVICE, workspace_id=analysis.workspace_id)


def usage_recorded(workspace_id: str, metric: str, quantity: int, source_id: str,
                   now: datetime) -> Event[Any]:
    return make_event("usage.recorded", UsageRecorded(
        workspace_id=workspace_id, metric=metric, quantity=quantity, source_event_id=source_id,
        occurred_at=now), producer=SERVICE, workspace_id=workspace_id)


def claim(service: AiService) -> Analysis | None:
    """Mark the oldest pending analysis (or one whose runner vanished) as running."""
    now = utcnow()
    stale_before = now - timedelta(seconds=service.stale_seconds)
    with service.uow() as uow:
        analysis = uow.analyses.next_to_run(stale_before)
        if analysis is None:
            return None
        analysis.claim(now, stale_before)
        uow.commit()
        return analysis


def _engine(service: AiService, engine: str, workspace_id: str,
            guard: Callable[[], str | None]) -> Engine:
    if engine == OFFLINE:
        return service.engines.offline()
    with service.uow() as uow:
        budget = service.monthly_tokens - uow.tokens.used(workspace_id, month_of(utcnow()))
    if budget <= 0:
        raise TokensSpent(workspace_id)
    return service.engines.llm(budget, guard)


def run_one(service: AiService) -> bool:
    """Claim and run one analysis; False when none was waiting."""
    claimed = claim(service)
    if claimed is None:
        return False
    workspace_id, engine_name = claimed.workspace_id, claimed.engine

    def guard() -> str | None:
        return refusal(service, workspace_id, engine_name)

    # The result, or the error the analysis records; and the LLM tokens spent either way.
    outcome: AnalysisResult | str
    try:
        # The settings now, not when the analysis was requested: it may have waited.
        if (reason := guard()) is not None:
            raise Withdrawn(reason)
        engine = _engine(service, engine_name, workspace_id, guard)
        result = analyze_text(engine, service.documents.text(workspace_id, claimed.document_id))
        outcome, tokens = result, result.tokens
    except Withdrawn as exc:
        outcome, tokens = exc.reason, exc.tokens
    except DocumentGone:
        outcome, tokens = "document_gone", 0
    except TokensSpent:
        outcome, tokens = "quota_exceeded", 0
    except Exception as exc:  # recorded on the analysis; retried a bounded number of times
        log.exception("analysis %s failed", claimed.id)
        outcome, tokens = f"engine_error: {type(exc).__name__}", getattr(exc, "tokens", 0)
    _finish(service, claimed.id, outcome, tokens)
    return True


def _finish(service: AiService, analysis_id: str, outcome: AnalysisResult | str, tokens: int) -> None:
    now = utcnow()
    with service.uow() as uow:
        analysis = uow.analyses.get(analysis_id, lock=True)
        if analysis is None or analysis.status != RUNNING:
            return  # deleted or re-requested meanwhile: this run's result is moot
        if tokens:
            uow.tokens.add(analysis.workspace_id, month_of(now), tokens)
            # The plan's llm_tokens (billed, or refused at the next analysis's start); the
            # source is this run of the analysis, so a redelivery counts it once.
            uow.publish(usage_recorded(analysis.workspace_id, "llm_tokens", tokens,
                               f"{analysis.id}:run:{analysis.attempts}:{_millis(analysis.claimed_at)}",
                               now))
        if isinstance(outcome, AnalysisResult):
            analysis.succeed(outcome, now)
            _remember(uow, analysis, outcome, now)
        elif not analysis.fail(outcome, now):
            uow.commit()  # pending again, for another attempt: nothing is completed yet
            return
        uow.publish(_completed(analysis))
        uow.commit()


def _remember(uow: AbstractUnitOfWork, analysis: Analysis, result: AnalysisResult,
              now: datetime) -> None:
    """Keep a finished result for the same bytes with the same engine in this workspace."""
    workspace_id, sha256, engine, model = (analysis.workspace_id, analysis.sha256,
                                           analysis.engine, analysis.model)
    if sha256 and uow.cache.get(workspace_id, sha256, engine, model) is None:
        uow.cache.add(workspace_id, sha256, engine, model,
                      CachedResult(result.summary, analysis.clauses or []), now)


def _millis(moment: datetime | None) -> int:
    return int(moment.timestamp() * 1000) if moment else 0


def run_pending(service: AiService, limit: int = 20) -> int:
    done = 0
    while done < limit and run_one(service):
        done += 1
    return done
