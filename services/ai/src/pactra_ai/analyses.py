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
from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from pactra_contracts.events import AnalysisCompleted, UsageRecorded, make_event
from pactra_contracts.ids import new_id
from pactra_contracts.times import utcnow
from pactra_platform import logs
from pactra_platform.messaging import notify_on_commit
from pactra_platform.problems import ProblemError

from .analysis_types import Withdrawn
from .engines import Engine, analyze_text, offline_engine
from .models import Analysis, CachedAnalysis, TokenUsage
from .offline.engine import MODEL as OFFLINE_MODEL
from .peers import AiChoices, DocumentGone, SettingsUnavailable
from .service import SERVICE, AiService

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3
# Failures worth another attempt: the engine's, and the gateway not answering.
RETRIED = ("engine_error", "settings_unavailable")
# A commit that leaves an analysis pending wakes the worker's runner at once.
PENDING_CHANNEL = "pactra_analysis_pending"


class QuotaExceeded(Exception):
    pass


def chosen_engine(service: AiService, settings: AiChoices) -> tuple[str, str]:
    if settings.ai_engine == "llm" and service.ai.llm_configured:
        return "llm", service.ai.model
    return "offline", OFFLINE_MODEL


def month_key() -> str:
    return utcnow().strftime("%Y-%m")


def tokens_used(session, workspace_id: str) -> int:
    row = session.get(TokenUsage, (workspace_id, month_key()))
    return row.tokens if row else 0


def refusal(service: AiService, workspace_id: str, engine: str) -> str | None:
    """Why an analysis with ``engine`` may not start (or go on) now, or None: asks the
    gateway, so it is the setting as of this moment."""
    try:
        choices = service.gateway.ai_choices(workspace_id)
    except SettingsUnavailable:
        log.warning("the gateway did not give workspace %s's AI settings", workspace_id)
        return "settings_unavailable"
    if not choices.ai_enabled:
        return "ai_disabled"
    if chosen_engine(service, choices)[0] != engine:
        return "engine_changed"
    return None


def present(row: Analysis) -> dict:
    body = {"id": row.id, "document_id": row.document_id, "status": row.status
            if row.status != "running" else "pending",
            "summary": row.summary, "clauses": row.clauses or [], "engine": row.engine,
            "model": row.model, "advisory": True}
    if row.status == "failed":
        body["error"] = row.error
    return body


def _require_enabled(service: AiService, workspace_id: str) -> AiChoices:
    try:
        choices = service.gateway.ai_choices(workspace_id)
    except SettingsUnavailable as exc:
        raise ProblemError("unavailable", "The workspace's AI settings cannot be read right "
                           "now; retry.") from exc
    if not choices.ai_enabled:
        raise ProblemError("ai_disabled", "AI analysis is turned off for this workspace.")
    return choices


def get(service: AiService, workspace_id: str, document_id: str) -> dict:
    _require_enabled(service, workspace_id)
    with service.uow() as uow:
        row = uow.session.scalar(select(Analysis).where(
            Analysis.workspace_id == workspace_id, Analysis.document_id == document_id))
        if row is None:
            raise ProblemError("not_found", "This document has no analysis; POST to start one.")
        return present(row)


def request(service: AiService, workspace_id: str, document_id: str,
            sha256: str | None = None) -> tuple[int, dict]:
    """Start (or return) the analysis: ``(200, analysis)`` when ready, else ``(202, ...)``."""
    settings = _require_enabled(service, workspace_id)
    engine, model = chosen_engine(service, settings)
    with service.uow() as uow:
        if engine == "llm" and tokens_used(uow.session, workspace_id) >= service.ai.monthly_tokens:
            raise ProblemError("quota_exceeded", "This workspace used its AI tokens for the month.")
    if sha256 is None:
        meta = service.documents.metadata(workspace_id, document_id)
        if meta is None:
            raise ProblemError("not_found", "No such document.")
        sha256 = str(meta["sha256"])
    try:
        return _record_request(service, workspace_id, document_id, sha256, engine, model)
    except IntegrityError:
        # A concurrent request created the row first; it is pending or done.
        return 202, {"status": "pending", "document_id": document_id, "advisory": True}


def _record_request(service: AiService, workspace_id: str, document_id: str, sha256: str,
                    engine: str, model: str) -> tuple[int, dict]:
    now = utcnow()
    with service.uow() as uow:
        session = uow.session
        row = session.scalar(select(Analysis).where(
            Analysis.workspace_id == workspace_id, Analysis.document_id == document_id,
        ).with_for_update())
        same = row is not None and (row.sha256, row.engine, row.model) == (sha256, engine, model)
        if same and row.status == "ready":
            return 200, present(row)
        if same and row.status in ("pending", "running"):
            return 202, present(row)
        if row is None:
            row = Analysis(id=new_id("ana"), workspace_id=workspace_id, document_id=document_id,
                           status="pending", created_at=now)
            session.add(row)
        row.sha256, row.engine, row.model = sha256, engine, model
        row.summary, row.clauses, row.error, row.attempts = None, None, None, 0
        row.claimed_at, row.updated_at, row.status = None, now, "pending"
        # The cache is the workspace's own: another's would tell it who else holds these bytes.
        cached = session.get(CachedAnalysis, (workspace_id, sha256, engine, model))
        if cached is not None:
            row.status, row.summary, row.clauses = "ready", cached.summary, cached.clauses
            uow.publish(_completed(row))
            uow.commit()
            return 200, present(row)
        # A new analysis: the gateway reserved it under "analysis:<request id>" before it
        # forwarded the request (402 when the plan blocks and none is left, or, for the LLM,
        # no token is left); this event confirms it (pactra_gateway.quota_gate).
        request_id = logs.request_id.get()
        source_id = (f"analysis:{request_id}" if request_id
                     else f"{row.id}:requested:{int(now.timestamp() * 1000)}")
        uow.publish(make_event("usage.recorded", UsageRecorded(
            workspace_id=workspace_id, metric="ai_analyses", quantity=1, source_event_id=source_id,
            occurred_at=now), producer=SERVICE, workspace_id=workspace_id))
        notify_on_commit(session, PENDING_CHANNEL)
        uow.commit()
        return 202, present(row)


def _completed(row: Analysis) -> object:
    return make_event("analysis.completed", AnalysisCompleted(
        document_id=row.document_id, status=row.status, engine=row.engine),
        producer=SERVICE, workspace_id=row.workspace_id)


def claim(service: AiService) -> tuple[str, str, str, str, str] | None:
    """Mark the oldest pending analysis (or one whose worker vanished) as running."""
    now = utcnow()
    stale = now - timedelta(seconds=service.ai.stale_seconds)
    with service.uow() as uow:
        row = uow.session.scalar(
            select(Analysis).where(or_(
                Analysis.status == "pending",
                (Analysis.status == "running") & (Analysis.claimed_at < stale),
            )).order_by(Analysis.updated_at).limit(1).with_for_update(skip_locked=True))
        if row is None:
            return None
        row.status, row.claimed_at, row.updated_at = "running", now, now
        row.attempts += 1
        claimed = (row.id, row.workspace_id, row.document_id, row.engine, row.model)
        uow.commit()
        return claimed


def _engine(service: AiService, engine: str, workspace_id: str,
            guard: Callable[[], str | None]) -> Engine:
    if engine == "offline":
        return offline_engine()
    from .llm.engine import LlmEngine

    with service.uow() as uow:
        budget = service.ai.monthly_tokens - tokens_used(uow.session, workspace_id)
    if budget <= 0:
        raise QuotaExceeded(workspace_id)
    # Asked again before every request to the provider: no text leaves once the workspace
    # turned AI off or chose another engine, even halfway through a long document.
    return LlmEngine(service.ai, budget, guard=guard)


def run_one(service: AiService) -> bool:
    """Claim and run one analysis; False when none was waiting."""
    claimed = claim(service)
    if claimed is None:
        return False
    analysis_id, workspace_id, document_id, engine_name, _model = claimed
    result, error, tokens = None, None, 0

    def guard() -> str | None:
        return refusal(service, workspace_id, engine_name)

    try:
        # The settings now, not when the analysis was requested: it may have waited.
        if (reason := guard()) is not None:
            raise Withdrawn(reason)
        engine = _engine(service, engine_name, workspace_id, guard)
        text = service.documents.text(workspace_id, document_id)
        result = analyze_text(engine, text)
        tokens = result.tokens
    except Withdrawn as exc:
        error, tokens = exc.reason, exc.tokens
    except (DocumentGone, QuotaExceeded) as exc:
        error = {DocumentGone: "document_gone", QuotaExceeded: "quota_exceeded"}[type(exc)]
    except Exception as exc:  # recorded on the analysis; retried a bounded number of times
        log.exception("analysis %s failed", analysis_id)
        error = f"engine_error: {type(exc).__name__}"
        tokens = getattr(exc, "tokens", 0)
    _finish(service, analysis_id, result, error, tokens)
    return True


def _finish(service: AiService, analysis_id: str, result, error: str | None, tokens: int) -> None:
    now = utcnow()
    with service.uow() as uow:
        session = uow.session
        row = session.get(Analysis, analysis_id, with_for_update=True)
        if row is None or row.status != "running":
            return  # deleted or re-requested meanwhile: this run's result is moot
        if tokens:
            usage = session.get(TokenUsage, (row.workspace_id, month_key()), with_for_update=True)
            if usage is None:
                usage = TokenUsage(workspace_id=row.workspace_id, month=month_key(), tokens=0)
                session.add(usage)
            usage.tokens += tokens
            # The plan's llm_tokens (billed, or refused at the next analysis's start); the
            # source is this run of the analysis, so a redelivery counts it once.
            uow.publish(make_event("usage.recorded", UsageRecorded(
                workspace_id=row.workspace_id, metric="llm_tokens", quantity=tokens,
                source_event_id=f"{row.id}:run:{row.attempts}:{_millis(row.claimed_at)}",
                occurred_at=now), producer=SERVICE, workspace_id=row.workspace_id))
        row.updated_at = now
        if result is not None:
            row.status, row.summary = "ready", result.summary
            row.clauses = [clause.as_dict() for clause in result.clauses]
            row.engine, row.model = result.engine, result.model
            key = (row.workspace_id, row.sha256, row.engine, row.model)
            if row.sha256 and session.get(CachedAnalysis, key) is None:
                session.add(CachedAnalysis(scope=key[0], sha256=key[1], engine=key[2],
                                           model=key[3], summary=row.summary,
                                           clauses=row.clauses, created_at=now))
        elif error and error.startswith(RETRIED) and row.attempts < MAX_ATTEMPTS:
            row.status, row.error = "pending", error
            uow.commit()
            return
        else:
            row.status, row.error = "failed", error
        uow.publish(_completed(row))
        uow.commit()


def _millis(moment) -> int:
    return int(moment.timestamp() * 1000) if moment else 0


def run_pending(service: AiService, limit: int = 20) -> int:
    done = 0
    while done < limit and run_one(service):
        done += 1
    return done


def forget_document(session, workspace_id: str, document_id: str) -> None:
    row = session.scalar(select(Analysis).where(
        Analysis.workspace_id == workspace_id, Analysis.document_id == document_id))
    if row is not None:
        session.delete(row)
