"""Event handlers of the notify service: ``handle(event, uow)``, run once per event id."""

import logging
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from pactra_contracts.events import AgreementCreated, Event, ReceiptIssued, Recipient, SignerInvited
from pactra_contracts.times import utcnow
from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork

from .deliveries import DeliveryLedger, Outgoing, deliver
from .emails import SignedPdf, invitation_email, receipt_email
from .links import open_link
from .models import AgreementParty, SignerLink
from .settings import get_notify_settings
from .signed_pdf import fetch_signed_pdf

log = logging.getLogger(__name__)

SENDER = "sender"  # the party of an agreement's sender (a signer's is its signer id)


class UnknownAgreement(RuntimeError):
    """A receipt for an agreement whose parties notify has not recorded (yet): retried (its
    ``agreement.created`` may still be queued), then dead-lettered, never emailed blindly."""


def on_agreement_created(event: Event, uow: SqlAlchemyUnitOfWork) -> None:
    data = event.payload()
    assert isinstance(data, AgreementCreated)
    _record_parties(uow, event, data.agreement_id, [
        (SENDER, data.sender.name, data.sender.email),
        *((signer.id, signer.name, signer.email) for signer in data.signers)])


def _record_parties(uow: SqlAlchemyUnitOfWork, event: Event, agreement_id: str,
                    parties: Iterable[tuple[str, str, str]]) -> None:
    now = utcnow()
    rows = [{"agreement_id": agreement_id, "party": party, "email": email.lower(),
             "workspace_id": event.workspace_id, "name": name, "recorded_at": now}
            for party, name, email in parties]
    uow.session.execute(insert(AgreementParty).values(rows).on_conflict_do_nothing())


def on_signer_invited(event: Event, uow: SqlAlchemyUnitOfWork) -> None:
    _invite(event, uow, "invitation")


def on_signer_reminded(event: Event, uow: SqlAlchemyUnitOfWork) -> None:
    _invite(event, uow, "reminder")


def _invite(event: Event, uow: SqlAlchemyUnitOfWork, kind: str) -> None:
    data = event.payload()
    assert isinstance(data, SignerInvited)
    settings = get_notify_settings()
    _remember_link(uow, event, data)
    _record_parties(uow, event, data.agreement_id, [
        (data.signer_id, data.name, data.email), (SENDER, data.sender.name, data.sender.email)])
    # Opened only now, to put into the email; the clear link is never stored.
    link = open_link(settings.master_key, data.link.sealed, data.signer_id)
    deliver(event, uow, [Outgoing(data.email.lower(), kind,
                                  lambda: invitation_email(kind, data, link), data.signer_id)],
            agreement_id=data.agreement_id, livemode=data.livemode)


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
    on_record = _recorded_recipients(uow, event, data)
    recipients = _unique_recipients(on_record)
    sender = next((r for r in on_record if r.signer_id is None), None)
    sender_name = sender.name if sender else "The sender"
    pdf: SignedPdf | None = None
    if data.outcome == "completed":
        done = {r for r, status in _statuses(uow, event).items() if status != "pending"}
        if any(r.email.lower() not in done for r in recipients):
            pdf = fetch_signed_pdf(settings, event, data)

    def compose(recipient: Recipient):
        def build():
            link = _signer_link(uow, data.agreement_id, recipient.signer_id)
            return receipt_email(data, recipient, sender_name=sender_name, link=link,
                                 public_url=settings.public_url, pdf=pdf,
                                 sender_email=sender.email if sender else None)
        return build

    deliver(event, uow, [Outgoing(r.email.lower(), data.outcome, compose(r), r.signer_id)
                         for r in recipients],
            agreement_id=data.agreement_id, livemode=data.livemode)


def _recorded_recipients(uow: SqlAlchemyUnitOfWork, event: Event,
                         data: ReceiptIssued) -> list[Recipient]:
    """The event's recipients that signing named for this agreement and workspace, under the
    names signing gave them. The event alone never chooses an address: a forged or mistaken
    ``receipt.issued`` cannot send an agreement's signed PDF or a signer's link elsewhere."""
    rows = uow.session.scalars(
        select(AgreementParty).where(AgreementParty.agreement_id == data.agreement_id)).all()
    if not rows:
        raise UnknownAgreement(f"no parties recorded for agreement {data.agreement_id}")
    if any(row.workspace_id != event.workspace_id for row in rows):
        log.error("receipt names another workspace than its agreement's; nobody emailed",
                  extra={"event_id": event.id, "agreement_id": data.agreement_id})
        return []
    names = {(row.party, row.email): row.name for row in rows}
    kept = []
    for recipient in data.recipients:
        email = recipient.email.lower()
        name = names.get((recipient.signer_id or SENDER, email))
        if name is not None:
            kept.append(Recipient(name=name, email=email, signer_id=recipient.signer_id))
    if len(kept) < len(data.recipients):
        # The count only: addresses are personal data and stay out of logs.
        log.warning("receipt recipients signing never named were left out",
                    extra={"event_id": event.id, "agreement_id": data.agreement_id,
                           "left_out": len(data.recipients) - len(kept)})
    return kept


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
