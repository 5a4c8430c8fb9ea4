"""Event handlers of the signing service: ``handle(event, uow)``, run once per event id."""

from sqlalchemy import select
from sqlalchemy.orm import raiseload

from pactra_contracts.events import (
    AccountUpdated,
    Event,
    ReceiptFailed,
    ReceiptIssued,
    SignerEmailUndelivered,
    WorkspaceCreated,
    WorkspaceUpdated,
)
from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork

from . import retention
from .models import Agreement, Sender, Signer


class SenderNotYetKnown(RuntimeError):
    """An owner change for a workspace whose creation signing has not seen yet: retried."""


def on_workspace_created(event: Event, uow: SqlAlchemyUnitOfWork) -> None:
    data = event.payload()
    assert isinstance(data, WorkspaceCreated)
    sender = uow.session.get(Sender, data.workspace_id) or Sender(workspace_id=data.workspace_id)
    sender.workspace_name = data.name
    sender.workspace_created_at = event.occurred_at
    # An account.updated that overtook this creation already holds the newer owner.
    if sender.owner_as_of is None or sender.owner_as_of < event.occurred_at:
        sender.name = data.owner.name
        sender.email = data.owner.email
        sender.owner_as_of = event.occurred_at
    if sender.email_verified is None:
        sender.email_verified = False
    uow.session.add(sender)


def on_account_updated(event: Event, uow: SqlAlchemyUnitOfWork) -> None:
    """The owner's corrected name and confirmed email: agreements created from now on are sent
    under them; those already made keep theirs (their evidence is never rewritten)."""
    data = event.payload()
    assert isinstance(data, AccountUpdated)
    sender = uow.session.get(Sender, data.workspace_id, with_for_update=True)
    if sender is None:
        # Its workspace.created is still on its way: wait for it (retried, then dead-lettered
        # rather than lost), since the workspace's name comes only with it.
        raise SenderNotYetKnown(data.workspace_id)
    if data.email_verified:
        sender.email_verified = True  # verification never goes back (models.Sender)
    if sender.owner_as_of is None or sender.owner_as_of < event.occurred_at:
        sender.name = data.owner.name
        sender.email = data.owner.email
        sender.owner_as_of = event.occurred_at


def on_workspace_updated(event: Event, uow: SqlAlchemyUnitOfWork) -> None:
    data = event.payload()
    assert isinstance(data, WorkspaceUpdated)
    sender = uow.session.get(Sender, data.workspace_id)
    # Consumers never assume order: an update that overtakes its creation is applied when
    # the creation arrives with the then-current name, so there is nothing to do here.
    if sender is not None and isinstance(data.changes.get("name"), str):
        sender.workspace_name = data.changes["name"]
    if "retention_days" in data.changes:
        days = data.changes["retention_days"]
        retention.note_policy(uow.session, data.workspace_id,
                              days if isinstance(days, int) else None, event.occurred_at)


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


def on_signer_email_undelivered(event: Event, uow: SqlAlchemyUnitOfWork) -> None:
    """``signer.bounced``/``signer.complained`` from notify: the signer shows it as
    ``delivery_status``. Only a signer of an agreement of the event's workspace changes."""
    data = event.payload()
    assert isinstance(data, SignerEmailUndelivered)
    signer = uow.session.scalar(
        select(Signer).join(Agreement, Agreement.id == Signer.agreement_id)
        .where(Signer.id == data.signer_id, Signer.agreement_id == data.agreement_id,
               Agreement.workspace_id == event.workspace_id)
        .options(raiseload("*")).with_for_update(of=Signer))
    if signer is not None:
        signer.delivery_status = data.delivery_status
