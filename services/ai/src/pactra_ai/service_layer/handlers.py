"""Event handlers of the ai service: ``handle(event, uow)``, run once per event id."""

from pactra_contracts.events import (
    DocumentDeleted,
    DocumentUploaded,
    Event,
    WorkspaceCreated,
    WorkspaceUpdated,
)
from pactra_contracts.ids import new_id
from pactra_contracts.times import utcnow

from ..domain.analysis import LLM, NEW_WORKSPACE, Analysis, auto_analysis_wanted
from ..domain.errors import QuotaRefused
from .analyses import usage_recorded
from .dependencies import AiService
from .unit_of_work import AbstractUnitOfWork


def on_workspace_created(event: Event[WorkspaceCreated], uow: AbstractUnitOfWork) -> None:
    data = event.payload()
    if uow.choices.get(data.workspace_id) is None:
        uow.choices.put(data.workspace_id, NEW_WORKSPACE)


def on_workspace_updated(event: Event[WorkspaceUpdated], uow: AbstractUnitOfWork) -> None:
    data = event.payload()
    # No row yet: the update overtook the creation; start from what the creation would set.
    current = uow.choices.get(data.workspace_id, lock=True) or NEW_WORKSPACE
    uow.choices.put(data.workspace_id, current.changed(data.changes))


def on_document_uploaded(event: Event[DocumentUploaded], uow: AbstractUnitOfWork,
                         service: AiService) -> None:
    """With ``ai_auto_analyze``, every upload gets a pending analysis for the worker to run."""
    data = event.payload()
    workspace_id = event.workspace_id
    if not workspace_id:
        return
    # The settings as the gateway holds them now, not as the workspace.updated event left
    # them here (it may still be on its way). Unreachable, the handler fails and is retried.
    choices = service.settings_peer.ai_choices(workspace_id)
    if not auto_analysis_wanted(choices, uow.analyses.for_document(workspace_id, data.document_id)):
        return
    engine, model = service.models.chosen(choices)
    now = utcnow()
    analysis = Analysis.requested(new_id("ana"), workspace_id, data.document_id, data.sha256,
                                  engine, model, now)
    # Counted against the plan like a requested analysis; over a blocking limit it is
    # recorded as failed ("quota_exceeded") rather than queued. Source: this upload's event.
    source_id = f"auto:{event.id}"
    try:
        if service.quotas is not None:
            service.quotas.reserve(workspace_id, source_id, {"ai_analyses": 1},
                                   checks=("llm_tokens",) if engine == LLM else ())
    except QuotaRefused:
        analysis.refuse("quota_exceeded")
        uow.analyses.add(analysis)
        return
    uow.analyses.add(analysis)
    uow.publish(usage_recorded(workspace_id, "ai_analyses", 1, source_id, now))
    uow.wake_runner()


def on_document_deleted(event: Event[DocumentDeleted], uow: AbstractUnitOfWork) -> None:
    data = event.payload()
    if event.workspace_id:
        analysis = uow.analyses.for_document(event.workspace_id, data.document_id)
        if analysis is not None:
            uow.analyses.delete(analysis)
