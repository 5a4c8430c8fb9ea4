"""Event handlers of the signing service: ``handle(event, uow)``, run once per event id."""

from pactra_contracts.events import (
    AccountUpdated,
    Event,
    ReceiptFailed,
    ReceiptIssued,
    SignerEmailUndelivered,
    WorkspaceCreated,
    WorkspaceUpdated,
)

from ..domain.agreement import Agreement
from ..domain.workspace import Sender
from .unit_of_work import UnitOfWork


class SenderNotYetKnown(RuntimeError):
    """An owner change for a workspace whose creation signing has not seen yet: retried."""


def on_workspace_created(event: Event[WorkspaceCreated], uow: UnitOfWork) -> None:
    data = event.payload()
    sender = uow.senders.get(data.workspace_id)
    if sender is None:
        sender = Sender(workspace_id=data.workspace_id)
        uow.senders.add(sender)
    sender.workspace_name = data.name
    sender.workspace_created_at = event.occurred_at
    # An account.updated that overtook this creation already holds the newer owner.
    sender.owner_changed(data.owner.name, data.owner.email, event.occurred_at)


def on_account_updated(event: Event[AccountUpdated], uow: UnitOfWork) -> None:
    """The owner's corrected name and confirmed email: agreements created from now on are sent
    under them; those already made keep theirs (their evidence is never rewritten)."""
    data = event.payload()
    sender = uow.senders.get(data.workspace_id, lock=True)
    if sender is None:
        # Its workspace.created is still on its way: wait for it (retried, then dead-lettered
        # rather than lost), since the workspace's name comes only with it.
        raise SenderNotYetKnown(data.workspace_id)
    if data.email_verified:
        sender.verified()
    sender.owner_changed(data.owner.name, data.owner.email, event.occurred_at)


def on_workspace_updated(event: Event[WorkspaceUpdated], uow: UnitOfWork) -> None:
    data = event.payload()
    sender = uow.senders.get(data.workspace_id)
    # Consumers never assume order: an update that overtakes its creation is applied when
    # the creation arrives with the then-current name, so there is nothing to do here.
    name = data.changes.get("name")
    if sender is not None and isinstance(name, str):
        sender.workspace_name = name
    if "retention_days" in data.changes:
        days = data.changes["retention_days"]
        uow.retention_policies.note(data.workspace_id, days if isinstance(days, int) else None,
                                    event.occurred_at)


def on_receipt_issued(event: Event[ReceiptIssued], uow: UnitOfWork) -> None:
    data = event.payload()
    agreement = _agreement_row(event, data.agreement_id, uow)
    if agreement is not None:
        agreement.evidence_issued(data.receipt_id)


def on_receipt_failed(event: Event[ReceiptFailed], uow: UnitOfWork) -> None:
    data = event.payload()
    agreement = _agreement_row(event, data.agreement_id, uow)
    if agreement is not None:
        agreement.evidence_failed(data.reason)


def _agreement_row(event: Event[ReceiptIssued] | Event[ReceiptFailed], agreement_id: str,
                   uow: UnitOfWork) -> Agreement | None:
    # Only the agreement's own row changes: its signers and fields are not read. Another
    # workspace's event names no agreement of its own.
    if event.workspace_id is None:
        return None
    return uow.agreements.row_only(event.workspace_id, agreement_id)


def on_signer_email_undelivered(event: Event[SignerEmailUndelivered], uow: UnitOfWork) -> None:
    """``signer.bounced``/``signer.complained`` from notify: the signer shows it as
    ``delivery_status``. Only a signer of an agreement of the event's workspace changes."""
    data = event.payload()
    if event.workspace_id is None:
        return
    signer = uow.agreements.signer_row(event.workspace_id, data.agreement_id, data.signer_id)
    if signer is not None:
        signer.delivery_status = data.delivery_status
