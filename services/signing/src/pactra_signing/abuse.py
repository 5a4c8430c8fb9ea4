"""Abuse defence at send and remind time (issue 16, "Abuse defence").

- Until the owner's email is verified, an agreement may go only to the owner's own address
  (``403 email_unverified``): a fresh signup cannot mail strangers.
- In a workspace's first 7 days, at most ``PACTRA_NEW_WORKSPACE_SIGNERS_PER_DAY`` signers a
  day (rolling 24 h; ``0`` turns it off); past it, ``429`` with ``Retry-After``.
- Reminders: at most one per signer per hour, not counting the invitation (``agreements.remind``).
"""

import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from pactra_contracts.times import utcnow
from pactra_platform.problems import ProblemError

from .models import Agreement, Sender, Signer

if TYPE_CHECKING:
    from .peers import Peers

NEW_WORKSPACE_DAYS = 7
CAP_WINDOW = timedelta(hours=24)
REMINDER_INTERVAL = timedelta(hours=1)
# Advisory-lock class of the per-workspace daily count (two sends never both take the last
# places).
CAP_LOCK_CLASS = 1_516_016


def require_verified_or_own_address(session_factory, peers: "Peers", workspace_id: str,
                                    signer_emails: set[str]) -> None:
    """Pass when the sender is verified, or when every signer is the owner; else 403."""
    from .peers import owner_of  # peers imports agreements, which imports this module
    with session_factory() as session:
        sender = session.get(Sender, workspace_id)
        if sender is not None and sender.email_verified:
            return
    owner = owner_of(peers, workspace_id)
    if owner.email_verified:
        with session_factory() as session:
            # Remembered, so the gateway is asked only until the address is verified.
            sender = session.get(Sender, workspace_id, with_for_update=True)
            if sender is not None and not sender.email_verified:
                sender.email_verified = True
                session.commit()
        return
    others = {email.lower() for email in signer_emails} - {owner.email}
    if others:
        raise ProblemError("email_unverified", (
            "Confirm your email address first (follow the link we emailed you, or ask for a new "
            "one with POST /v1/account/verify-email): until then agreements can go only to "
            "your own address."))


def check_new_workspace_cap(session: Session, sender: Sender | None, workspace_id: str,
                            inviting: int, cap: int, now: datetime | None = None) -> None:
    """In the send transaction: refuse when this send's signers would take the workspace past
    ``cap`` signers in the last 24 h while it is under 7 days old. Locks the workspace's count
    until the transaction ends."""
    now = now or utcnow()
    if cap <= 0 or inviting == 0 or sender is None or sender.workspace_created_at is None:
        return
    if now - sender.workspace_created_at >= timedelta(days=NEW_WORKSPACE_DAYS):
        return
    session.execute(text("SELECT pg_advisory_xact_lock(:class, hashtext(:workspace))"),
                    {"class": CAP_LOCK_CLASS, "workspace": workspace_id})
    since = now - CAP_WINDOW
    recent = select(Signer.invited_at).join(Agreement, Agreement.id == Signer.agreement_id).where(
        Agreement.workspace_id == workspace_id, Signer.invited_at > since)
    used = session.scalar(select(func.count()).select_from(recent.subquery())) or 0
    if used + inviting <= cap:
        return
    # The window frees a place when its oldest invitation turns 24 h old.
    oldest = session.scalar(select(func.min(Signer.invited_at)).join(
        Agreement, Agreement.id == Signer.agreement_id).where(
        Agreement.workspace_id == workspace_id, Signer.invited_at > since))
    wait = math.ceil(((oldest or now) + CAP_WINDOW - now).total_seconds()) if oldest else 1
    raise ProblemError("rate_limited", (
        f"A workspace in its first {NEW_WORKSPACE_DAYS} days may invite at most {cap} signers a "
        f"day; {used} were invited in the last 24 hours and this would invite {inviting}."),
        headers={"Retry-After": str(max(wait, 1))})


def reminder_wait(signer: Signer, now: datetime) -> float:
    """Seconds until ``signer`` may be reminded again (0: now)."""
    if signer.reminded_at is None:
        return 0.0
    return max(0.0, (signer.reminded_at + REMINDER_INTERVAL - now).total_seconds())
