"""Event handlers of the notify service: ``handle(event, uow, ...)``, run once per event id
(the inbox); ``bootstrap`` binds what each needs besides the unit of work."""

import logging
from collections.abc import Callable

from pactra_contracts.events import (
    AccountLinkRequested,
    AccountUpdated,
    AgreementCreated,
    AgreementPurged,
    DeletionLinkRequested,
    Event,
    ReceiptIssued,
    Recipient,
    SignerInvited,
    WorkspaceCreated,
)
from pactra_contracts.times import utcnow

from ..domain.account_emails import account_email, deletion_email
from ..domain.emails import Email, SignedPdf, invitation_email, receipt_email
from ..domain.recipients import (
    SENDER,
    Party,
    needs_signed_pdf,
    recorded_recipients,
    unique_recipients,
)
from ..domain.test_mode import Owner
from .deliveries import Outgoing, deliver
from .ports import Mail
from .unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


# --- an agreement's parties and their emails ---------------------------------------------------


def on_agreement_created(event: Event[AgreementCreated], uow: UnitOfWork) -> None:
    """Records the agreement's parties: the only addresses its receipt may be emailed to."""
    data = event.payload()
    uow.parties.record([
        Party.of(data.agreement_id, event.workspace_id, SENDER, data.sender.name, data.sender.email),
        *(Party.of(data.agreement_id, event.workspace_id, signer.id, signer.name, signer.email)
          for signer in data.signers)], utcnow())


def on_signer_invited(event: Event[SignerInvited], uow: UnitOfWork, mail: Mail) -> None:
    _invite(event, uow, mail, "invitation")


def on_signer_reminded(event: Event[SignerInvited], uow: UnitOfWork, mail: Mail) -> None:
    _invite(event, uow, mail, "reminder")


def _invite(event: Event[SignerInvited], uow: UnitOfWork, mail: Mail, kind: str) -> None:
    data = event.payload()
    now = utcnow()
    # Kept still sealed, so the ending emails can link the signer's copy of the evidence.
    uow.signer_links.remember(data.agreement_id, data.signer_id, event.workspace_id,
                              data.link.sealed, now)
    uow.parties.record([
        Party.of(data.agreement_id, event.workspace_id, data.signer_id, data.name, data.email),
        Party.of(data.agreement_id, event.workspace_id, SENDER, data.sender.name, data.sender.email),
    ], now)
    # Opened only now, to put into the email; the clear link is never stored.
    link = mail.links.signing_link(data.link.sealed, data.signer_id)
    deliver(event, uow, mail.backend,
            [Outgoing(data.email.lower(), kind, lambda: invitation_email(kind, data, link),
                      data.signer_id)],
            agreement_id=data.agreement_id, livemode=data.livemode)


def on_receipt_issued(event: Event[ReceiptIssued], uow: UnitOfWork, mail: Mail) -> None:
    """The completion or ending email, to each party signing named (and the event lists)."""
    data = event.payload()
    found = recorded_recipients(data.agreement_id, uow.parties.of_agreement(data.agreement_id),
                                event.workspace_id, data.recipients)
    if found.foreign:
        log.error("receipt names another workspace than its agreement's; nobody emailed",
                  extra={"event_id": event.id, "agreement_id": data.agreement_id})
        return
    if found.left_out:
        # The count only: addresses are personal data and stay out of logs.
        log.warning("receipt recipients signing never named were left out",
                    extra={"event_id": event.id, "agreement_id": data.agreement_id,
                           "left_out": found.left_out})
    recipients = unique_recipients(found.kept)
    sender = found.sender
    pdf: SignedPdf | None = None
    if needs_signed_pdf(data.outcome, recipients, uow.ledger.statuses(event.id)):
        pdf = mail.peers.signed_pdf(event.workspace_id, data.agreement_id)

    def compose(recipient: Recipient) -> Callable[[], Email]:
        def build() -> Email:
            sealed = (uow.signer_links.sealed(data.agreement_id, recipient.signer_id)
                      if recipient.signer_id else None)
            link = (mail.links.signing_link(sealed, recipient.signer_id)
                    if sealed is not None and recipient.signer_id else None)
            return receipt_email(data, recipient, sender_name=sender.name if sender else "The sender",
                                 link=link, public_url=mail.public_url, pdf=pdf,
                                 sender_email=sender.email if sender else None)
        return build

    deliver(event, uow, mail.backend,
            [Outgoing(r.email.lower(), data.outcome, compose(r), r.signer_id) for r in recipients],
            agreement_id=data.agreement_id, livemode=data.livemode)


def on_agreement_purged(event: Event[AgreementPurged], uow: UnitOfWork) -> None:
    """Signing purged an agreement (retention, or an early delete): the signer details notify
    holds for it go, its parties (names, emails), their sealed links and the record of each
    email sent (the recipient's address)."""
    data = event.payload()
    counts = uow.forget_agreement(data.agreement_id)
    log.info("agreement purged", extra={"agreement_id": data.agreement_id, "reason": data.reason,
                                        "counts": counts})


# --- the account's emails (api.md, "Account") ------------------------------------------------


def on_email_verification_requested(event: Event[AccountLinkRequested], uow: UnitOfWork,
                                    mail: Mail) -> None:
    _send_account_email(event, uow, mail, "verify_email")


def on_recovery_requested(event: Event[AccountLinkRequested], uow: UnitOfWork, mail: Mail) -> None:
    _send_account_email(event, uow, mail, "recovery")


def _send_account_email(event: Event[AccountLinkRequested], uow: UnitOfWork, mail: Mail,
                        kind: str) -> None:
    data = event.payload()
    link = mail.links.account_link(data.link.sealed, data.user_id)
    deliver(event, uow, mail.backend,
            [Outgoing(data.email.lower(), kind, lambda: account_email(kind, data, link))],
            agreement_id=None)


def on_deletion_confirmation_requested(event: Event[DeletionLinkRequested], uow: UnitOfWork,
                                       mail: Mail) -> None:
    """The link that confirms (or cancels) a workspace's deletion, to its owner's address."""
    data = event.payload()
    link = mail.links.account_link(data.link.sealed, data.user_id)
    deliver(event, uow, mail.backend,
            [Outgoing(data.email.lower(), "deletion_confirm", lambda: deletion_email(data, link))],
            agreement_id=None)


# --- the workspace's owner --------------------------------------------------------------------


def on_workspace_created(event: Event[WorkspaceCreated], uow: UnitOfWork) -> None:
    """Remember the owner: whom to tell when an endpoint of theirs is disabled."""
    data = event.payload()
    uow.owners.named(Owner(data.workspace_id, data.owner.name, data.owner.email,
                           email_verified=False, updated_at=utcnow()))


def on_account_updated(event: Event[AccountUpdated], uow: UnitOfWork) -> None:
    """The owner's confirmed address and whether it is verified: where test-mode email may
    go. The newest (by occurred_at) wins."""
    data = event.payload()
    uow.owners.confirmed(Owner(data.workspace_id, data.owner.name, data.owner.email,
                               data.email_verified, event.occurred_at))
