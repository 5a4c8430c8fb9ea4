"""Abuse defence at send time (issue 16, "Abuse defence"); the rules are the domain's
(domain/workspace.py, and ``Agreement.remind`` for reminders):

- Until the owner's email is verified, an agreement may go only to the owner's own address
  (``403 email_unverified``): a fresh signup cannot mail strangers.
- In a workspace's first 7 days, at most ``PACTRA_NEW_WORKSPACE_SIGNERS_PER_DAY`` signers a
  day (rolling 24 h; ``0`` turns it off); past it, ``429`` with ``Retry-After``
  (``agreements.send``).
- Reminders: at most one per signer per hour, not counting the invitation.
"""

from collections.abc import Callable

from ..domain.workspace import Owner, check_own_address
from .unit_of_work import UnitOfWork


def require_verified_or_own_address(uow_factory: Callable[[], UnitOfWork],
                                    owner_of: Callable[[str], Owner], workspace_id: str,
                                    signer_emails: set[str]) -> None:
    """Pass when the sender is verified, or when every signer is the owner; else
    ``EmailUnverified``. ``owner_of`` asks the gateway, which owns accounts."""
    with uow_factory() as uow:
        sender = uow.senders.get(workspace_id)
        if sender is not None and sender.email_verified:
            return
    owner = owner_of(workspace_id)
    if owner.email_verified:
        with uow_factory() as uow:
            # Remembered, so the gateway is asked only until the address is verified.
            sender = uow.senders.get(workspace_id, lock=True)
            if sender is not None and not sender.email_verified:
                sender.verified()
                uow.commit()
        return
    check_own_address(owner.email, signer_emails)
