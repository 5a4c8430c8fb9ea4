"""Event handlers of the signing service: ``handle(event, uow)``, run once per event id."""

from sqlalchemy import select
from sqlalchemy.orm import raiseload

from pactra_contracts.events import (
    Event,
    ReceiptFailed,
    ReceiptIssued,
    WorkspaceCreated,
    WorkspaceUpdated,
)
from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork

from .models import Agreement, Sender


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


def _agreement(uow: SqlAlchemyUnitOfWork, event: Event, agreement_id: str) -> Agreement | None:
    # Only the agreement's own row changes: its signers and fields (which load "selectin",
    # signature images and all) are not read.
    return uow.session.scalar(select(Agreement).where(
        Agreement.id == agreement_id, Agreement.workspace_id == event.workspace_id)
        .options(raiseload("*")).with_for_update())


def on_receipt_issued(event: Event, uow: SqlAlchemyUnitOfWork) -> None:
    data = event.payload()
    assert isinstance(data, ReceiptIssued)
    agreement = _agreement(uow, event, data.agreement_id)
    if agreement is not None:
        agreement.evidence_status = "issued"
        agreement.evidence_reason = None
        agreement.receipt_id = data.receipt_id


def on_receipt_failed(event: Event, uow: SqlAlchemyUnitOfWork) -> None:
    data = event.payload()
    assert isinstance(data, ReceiptFailed)
    agreement = _agreement(uow, event, data.agreement_id)
    # A failure reported after the evidence was issued (a late retry) changes nothing.
    if agreement is not None and agreement.evidence_status != "issued":
        agreement.evidence_status = "failed"
        agreement.evidence_reason = data.reason
