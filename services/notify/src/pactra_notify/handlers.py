"""Event handlers of the notify service: ``handle(event, uow)``, run once per event id."""

from pactra_contracts.events import Event, ReceiptIssued, Recipient, SignerInvited
from pactra_contracts.times import utcnow
from pactra_platform.crypto import open_link
from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork

from .deliveries import DeliveryLedger, Outgoing, deliver
from .emails import SignedPdf, invitation_email, receipt_email
from .models import SignerLink
from .settings import get_notify_settings
from .signed_pdf import fetch_signed_pdf


def on_signer_invited(event: Event, uow: SqlAlchemyUnitOfWork) -> None:
    _invite(event, uow, "invitation")


def on_signer_reminded(event: Event, uow: SqlAlchemyUnitOfWork) -> None:
    _invite(event, uow, "reminder")


def _invite(event: Event, uow: SqlAlchemyUnitOfWork, kind: str) -> None:
    data = event.payload()
    assert isinstance(data, SignerInvited)
    settings = get_notify_settings()
    _remember_link(uow, event, data)
    # Opened only now, to put into the email; the clear link is never stored.
    link = open_link(settings.master_key, data.link.sealed, data.signer_id)
    deliver(event, uow, [Outgoing(data.email.lower(), kind,
                                  lambda: invitation_email(kind, data, link))],
            agreement_id=data.agreement_id)


def _remember_link(uow: SqlAlchemyUnitOfWork, event: Event, data: SignerInvited) -> None:
    row = uow.session.get(SignerLink, (data.agreement_id, data.signer_id))
    if row is None:
        row = SignerLink(agreement_id=data.agreement_id, signer_id=data.signer_id)
        uow.session.add(row)
    row.workspace_id = event.workspace_id
    row.sealed = data.link.sealed
    row.updated_at = utcnow()
    uow.session.flush()


def on_receipt_issued(event: Event, uow: SqlAlchemyUnitOfWork) -> None:
    data = event.payload()
    assert isinstance(data, ReceiptIssued)
    settings = get_notify_settings()
    recipients = _unique_recipients(data.recipients)
    sender_name = next((r.name for r in data.recipients if r.signer_id is None), "The sender")
    pdf: SignedPdf | None = None
    if data.outcome == "completed":
        done = {r for r, status in _statuses(uow, event).items() if status != "pending"}
        if any(r.email.lower() not in done for r in recipients):
            pdf = fetch_signed_pdf(settings, event, data)

    def compose(recipient: Recipient):
        def build():
            link = _signer_link(uow, data.agreement_id, recipient.signer_id)
            return receipt_email(data, recipient, sender_name=sender_name, link=link,
                                 public_url=settings.public_url, pdf=pdf)
        return build

    deliver(event, uow, [Outgoing(r.email.lower(), data.outcome, compose(r)) for r in recipients],
            agreement_id=data.agreement_id)


def _unique_recipients(recipients: list[Recipient]) -> list[Recipient]:
    """One email per address; a sender who is also a signer gets the signer's (with a link)."""
    ordered = sorted(recipients, key=lambda r: r.signer_id is None)
    seen: set[str] = set()
    unique = []
    for recipient in ordered:
        if recipient.email.lower() not in seen:
            seen.add(recipient.email.lower())
            unique.append(recipient)
    return unique


def _statuses(uow: SqlAlchemyUnitOfWork, event: Event) -> dict[str, str]:
    return DeliveryLedger(uow.session.get_bind()).statuses(event.id)  # type: ignore[arg-type]


def _signer_link(uow: SqlAlchemyUnitOfWork, agreement_id: str, signer_id: str | None) -> str | None:
    if signer_id is None:
        return None
    row = uow.session.get(SignerLink, (agreement_id, signer_id))
    if row is None:
        return None
    return open_link(get_notify_settings().master_key, row.sealed, signer_id)
