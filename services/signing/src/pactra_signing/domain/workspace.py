"""What signing knows of a workspace: its owner, in whose name agreements are sent (from
``workspace.*`` and ``account.updated`` events), the limits on a new workspace, and how long
its ended agreements are kept."""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from .errors import EmailUnverified, TooSoon

NEW_WORKSPACE_DAYS = 7
CAP_WINDOW = timedelta(hours=24)


@dataclass(eq=False)
class Sender:
    """A workspace's owner as signing knows it: every agreement of the workspace is sent in
    this name, and completion emails go to this address."""

    workspace_id: str
    workspace_name: str = ""
    name: str = ""
    email: str = ""
    # Once the gateway said the owner's address is verified (an ``account.updated`` event, or
    # its answer at send time), it stays so: an address is confirmed once, and a new one
    # becomes the owner's only confirmed. Until then agreements go only to the owner.
    email_verified: bool = False
    # When the workspace was made (``workspace.created``): its first 7 days have a daily cap on
    # signers invited. None for senders recorded before it was kept: no cap.
    workspace_created_at: datetime | None = None
    # The time of the owner change applied last (its event's occurred_at): an older
    # ``account.updated`` that arrives late never overwrites a newer name or email.
    owner_as_of: datetime | None = None

    def owner_changed(self, name: str, email: str, as_of: datetime) -> None:
        """The owner as of ``as_of``; events arrive in any order, so an older one changes nothing."""
        if self.owner_as_of is None or self.owner_as_of < as_of:
            self.name = name
            self.email = email
            self.owner_as_of = as_of

    def verified(self) -> None:
        self.email_verified = True  # verification never goes back

    def capped(self, cap: int, inviting: int, now: datetime) -> bool:
        """Whether inviting ``inviting`` signers now counts against the new-workspace cap."""
        return (cap > 0 and inviting > 0 and self.workspace_created_at is not None
                and now - self.workspace_created_at < timedelta(days=NEW_WORKSPACE_DAYS))


def check_new_workspace_cap(cap: int, inviting: int, used: int, oldest: datetime | None,
                            now: datetime) -> None:
    """Refuse when this send's ``inviting`` signers, after the ``used`` invited in the last
    24 h (the oldest of them at ``oldest``), would take a new workspace past ``cap``."""
    if used + inviting <= cap:
        return
    # The window frees a place when its oldest invitation turns 24 h old.
    wait = math.ceil(((oldest or now) + CAP_WINDOW - now).total_seconds()) if oldest else 1
    raise TooSoon((
        f"A workspace in its first {NEW_WORKSPACE_DAYS} days may invite at most {cap} signers a "
        f"day; {used} were invited in the last 24 hours and this would invite {inviting}."), wait)


@dataclass(frozen=True)
class Owner:
    """The workspace's owner as the gateway holds them at this moment (asked at send time: a
    confirmation holds from the moment it was answered, not from when its event arrives)."""

    email: str
    email_verified: bool


def check_own_address(owner_email: str, signer_emails: set[str]) -> None:
    """An unverified owner's agreement may go to the owner alone."""
    others = {email.lower() for email in signer_emails} - {owner_email}
    if others:
        raise EmailUnverified(
            "Confirm your email address first (follow the link we emailed you, or ask for a new "
            "one with POST /v1/account/verify-email): until then agreements can go only to "
            "your own address.")


@dataclass(eq=False)
class RetentionPolicy:
    """A workspace's ``retention_days`` as ``workspace.updated`` last set it (None: keep
    everything): ended agreements older than that are purged daily (service_layer/retention.py).
    Kept apart from the sender so that a setting that overtakes the workspace's creation is not
    lost."""

    workspace_id: str
    retention_days: int | None
    # The occurred_at of the event applied: an older update arriving late changes nothing.
    as_of: datetime
