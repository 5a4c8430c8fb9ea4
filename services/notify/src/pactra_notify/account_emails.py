"""The account's emails (api.md, "Account"): a link to confirm an address, and a link to
recover access. The gateway asks for them by event, with the link sealed; it is opened only
here, to be put into the email, and never stored."""

from pactra_contracts.events import AccountLinkRequested, DeletionLinkRequested, Event
from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork

from .deliveries import Outgoing, deliver
from .emails import Email, human_time, render
from .links import open_account_link
from .settings import get_notify_settings

SUBJECTS = {
    "verify_email": "Confirm your email address for Pactra",
    "recovery": "Recover access to your Pactra workspace",
}


def account_email(kind: str, data: AccountLinkRequested, link: str) -> Email:
    """``kind`` is ``verify_email`` or ``recovery``."""
    return render(kind, kind, data.email, SUBJECTS[kind], {
        "recipient_name": data.name, "email": data.email, "link": link,
        "expires_at": human_time(data.expires_at), "reason": data.reason,
    })


def _send(event: Event, uow: SqlAlchemyUnitOfWork, kind: str) -> None:
    data = event.payload()
    assert isinstance(data, AccountLinkRequested)
    link = open_account_link(get_notify_settings().master_key, data.link.sealed, data.user_id)
    deliver(event, uow, [Outgoing(data.email.lower(), kind, lambda: account_email(kind, data, link))],
            agreement_id=None)


def on_email_verification_requested(event: Event, uow: SqlAlchemyUnitOfWork) -> None:
    _send(event, uow, "verify_email")


def on_recovery_requested(event: Event, uow: SqlAlchemyUnitOfWork) -> None:
    _send(event, uow, "recovery")


def deletion_email(data: DeletionLinkRequested, link: str) -> Email:
    return render("deletion_confirm", "deletion_confirm", data.email,
                  f"Confirm the deletion of your Pactra workspace \u201c{data.workspace_name}\u201d", {
                      "recipient_name": data.name, "workspace_name": data.workspace_name,
                      "link": link, "expires_at": human_time(data.expires_at),
                      "grace_hours": data.grace_hours,
                  })


def on_deletion_confirmation_requested(event: Event, uow: SqlAlchemyUnitOfWork) -> None:
    """The link that confirms (or cancels) a workspace's deletion, to its owner's address."""
    data = event.payload()
    assert isinstance(data, DeletionLinkRequested)
    link = open_account_link(get_notify_settings().master_key, data.link.sealed, data.user_id)
    deliver(event, uow, [Outgoing(data.email.lower(), "deletion_confirm",
                                  lambda: deletion_email(data, link))], agreement_id=None)
