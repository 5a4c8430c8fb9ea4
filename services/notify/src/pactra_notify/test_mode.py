"""Where test-mode email may go (api.md, "Test mode"): only to the workspace's verified
addresses, which today is its owner's email once the owner confirmed it (``account.updated``
says so; ``workspace.created`` names the owner, unverified). Every other recipient of a
test-mode email (an invitation, a reminder, a completion) is recorded as ``suppressed`` and
sent nothing, whatever the email backend: test signers sign through embedded links
(``POST /v1/agreements/{id}/signers/{signer_id}/link``)."""

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from pactra_contracts.events import AccountUpdated, Event
from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork

from .models import WorkspaceOwner

SUPPRESSED_REASON = "test mode: not a verified address of the workspace"


def allowed_recipients(session: Session, workspace_id: str | None) -> frozenset[str]:
    """The addresses test-mode email may go to (lower case); none when unknown."""
    owner = session.get(WorkspaceOwner, workspace_id) if workspace_id else None
    if owner is None or not owner.email_verified:
        return frozenset()
    return frozenset({owner.email.lower()})


def on_account_updated(event: Event, uow: SqlAlchemyUnitOfWork) -> None:
    """The owner's confirmed address and whether it is verified. Events may come in any
    order; the newest (by occurred_at) wins, so a late one never undoes a newer one."""
    data = event.payload()
    assert isinstance(data, AccountUpdated)
    values = {"name": data.owner.name, "email": data.owner.email.lower(),
              "email_verified": data.email_verified, "updated_at": event.occurred_at}
    statement = insert(WorkspaceOwner).values(workspace_id=data.workspace_id, **values)
    uow.session.execute(statement.on_conflict_do_update(
        index_elements=["workspace_id"], set_=values,
        where=WorkspaceOwner.updated_at <= statement.excluded.updated_at))
