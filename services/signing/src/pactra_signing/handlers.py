"""Event handlers of the signing service: ``handle(event, uow)``, run once per event id."""

from pactra_contracts.events import Event, WorkspaceCreated, WorkspaceUpdated
from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork

from .models import Sender


def on_workspace_created(event: Event, uow: SqlAlchemyUnitOfWork) -> None:
    data = event.payload()
    assert isinstance(data, WorkspaceCreated)
    sender = uow.session.get(Sender, data.workspace_id) or Sender(workspace_id=data.workspace_id)
    sender.workspace_name = data.name
    sender.name = data.owner.name
    sender.email = data.owner.email
    uow.session.add(sender)


def on_workspace_updated(event: Event, uow: SqlAlchemyUnitOfWork) -> None:
    data = event.payload()
    assert isinstance(data, WorkspaceUpdated)
    sender = uow.session.get(Sender, data.workspace_id)
    # Consumers never assume order: an update that overtakes its creation is applied when
    # the creation arrives with the then-current name, so there is nothing to do here.
    if sender is not None and isinstance(data.changes.get("name"), str):
        sender.workspace_name = data.changes["name"]
