"""Event handlers of the ai service: ``handle(event, uow)``, run once per event id."""

from pactra_contracts.events import Event, WorkspaceCreated, WorkspaceUpdated
from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork

from .models import WorkspaceAiSettings

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
