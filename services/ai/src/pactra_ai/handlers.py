"""Event handlers of the ai service: ``handle(event, uow)``, run once per event id."""

from sqlalchemy import select

from pactra_contracts.events import (
    DocumentDeleted,
    DocumentUploaded,
    Event,
    UsageRecorded,
    WorkspaceCreated,
    WorkspaceUpdated,
    make_event,
)
from pactra_contracts.ids import new_id
from pactra_contracts.times import utcnow
from pactra_platform.messaging import notify_on_commit
from pactra_platform.problems import ProblemError
from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork

from . import analyses
from .models import Analysis, WorkspaceAiSettings
from .service import default_service

AI_SETTINGS = ("ai_enabled", "ai_engine", "ai_auto_analyze")


def on_workspace_created(event: Event, uow: SqlAlchemyUnitOfWork) -> None:
    data = event.payload()
    assert isinstance(data, WorkspaceCreated)
    if uow.session.get(WorkspaceAiSettings, data.workspace_id) is None:
        uow.session.add(WorkspaceAiSettings(workspace_id=data.workspace_id, ai_enabled=True,
                                            ai_engine="offline", ai_auto_analyze=False))


def on_workspace_updated(event: Event, uow: SqlAlchemyUnitOfWork) -> None:
    data = event.payload()
    assert isinstance(data, WorkspaceUpdated)
    settings = uow.session.get(WorkspaceAiSettings, data.workspace_id, with_for_update=True)
    if settings is None:
        # The update overtook the creation: start from the defaults the creation would set.
        settings = WorkspaceAiSettings(workspace_id=data.workspace_id, ai_enabled=True,
                                       ai_engine="offline", ai_auto_analyze=False)
        uow.session.add(settings)
    for name in AI_SETTINGS:
        if name in data.changes:
            setattr(settings, name, data.changes[name])


def on_document_uploaded(event: Event, uow: SqlAlchemyUnitOfWork) -> None:
    """With ``ai_auto_analyze``, every upload gets a pending analysis for the worker to run."""
    data = event.payload()
    assert isinstance(data, DocumentUploaded)
    workspace_id = event.workspace_id
    if not workspace_id:
        return
    service = default_service()
    # The settings as the gateway holds them now, not as the workspace.updated event left
    # them here (it may still be on its way). Unreachable, the handler fails and is retried.
    settings = service.gateway.ai_choices(workspace_id)
    if not (settings.ai_enabled and settings.ai_auto_analyze):
        return
    existing = uow.session.scalar(select(Analysis).where(
        Analysis.workspace_id == workspace_id, Analysis.document_id == data.document_id))
    if existing is not None:
        return
    engine, model = analyses.chosen_engine(service, settings)
    now = utcnow()
    # Counted against the plan like a requested analysis; over a blocking limit it is
    # recorded as failed ("quota_exceeded") rather than queued. Source: this upload's event.
    source_id = f"auto:{event.id}"
    status, error = "pending", None
    try:
        if service.quotas is not None:
            service.quotas.reserve(workspace_id, source_id, {"ai_analyses": 1},
                                   checks=("llm_tokens",) if engine == "llm" else ())
    except ProblemError as exc:
        if exc.problem.code != "quota_exceeded":
            raise
        status, error = "failed", "quota_exceeded"
    uow.session.add(Analysis(
        id=new_id("ana"), workspace_id=workspace_id, document_id=data.document_id,
        sha256=data.sha256, status=status, error=error, engine=engine, model=model, attempts=0,
        created_at=now, updated_at=now))
    if status == "failed":
        return
    uow.publish(make_event("usage.recorded", UsageRecorded(
        workspace_id=workspace_id, metric="ai_analyses", quantity=1, source_event_id=source_id,
        occurred_at=now), producer="ai", workspace_id=workspace_id))
    notify_on_commit(uow.session, analyses.PENDING_CHANNEL)


def on_document_deleted(event: Event, uow: SqlAlchemyUnitOfWork) -> None:
    data = event.payload()
    assert isinstance(data, DocumentDeleted)
    if event.workspace_id:
        analyses.forget_document(uow.session, event.workspace_id, data.document_id)
