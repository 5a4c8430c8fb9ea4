"""A workspace's deletion, its states and the rules that move it (api.md, "Deletion and
retention"):

    awaiting_confirmation --confirm--> scheduled --grace ends--> running --all purged--> completed
            |                              |
            +------------cancel------------+--> cancelled

A request is confirmed only with the workspace's exact name and only to a verified owner
address; a newer request supersedes one still awaiting confirmation; the purge, once started,
cannot be cancelled; the deletion completes when every service reported its purge.
"""

from collections.abc import Mapping
from datetime import datetime, timedelta

from .errors import Conflict, Expired, NameMismatch, Unverified

AWAITING_CONFIRMATION = "awaiting_confirmation"
SCHEDULED = "scheduled"
RUNNING = "running"
COMPLETED = "completed"
CANCELLED = "cancelled"
ACTIVE = (AWAITING_CONFIRMATION, SCHEDULED, RUNNING)
# Confirmed and not yet done: a second request is refused.
CONFIRMED = (SCHEDULED, RUNNING)
PENDING = "pending"
PURGED = "purged"
# How long the mailed link confirms (cancelling works until the purge starts).
CONFIRM_WITHIN = timedelta(hours=24)


def check_request(workspace_name: str, confirm: str, *, owner_verified: bool,
                  confirmed_id: str | None) -> None:
    """May the owner ask to delete the workspace now? (``confirmed_id``: a deletion of it
    already confirmed.)"""
    if confirm != workspace_name:
        raise NameMismatch(workspace_name)
    if not owner_verified:
        raise Unverified()
    if confirmed_id is not None:
        raise Conflict(confirmed_id)


def needs_confirming(status: str, confirm_by: datetime, now: datetime) -> bool:
    """Whether confirming now moves the deletion on; False when it was confirmed already (the
    link clicked twice gets the same answer)."""
    if status == CANCELLED:
        raise Conflict(status)
    if status != AWAITING_CONFIRMATION:
        return False
    if now > confirm_by:
        raise Expired(confirm_by)
    return True


def needs_cancelling(status: str) -> bool:
    """Whether cancelling now changes anything; the purge, once started, cannot be cancelled."""
    if status == CANCELLED:
        return False
    if status not in (AWAITING_CONFIRMATION, SCHEDULED):
        raise Conflict(status)
    return True


def purge_at(confirmed_at: datetime, grace_hours: float) -> datetime:
    return confirmed_at + timedelta(hours=grace_hours)


def report_purge(services: Mapping[str, str], service: str) -> tuple[dict[str, str], bool]:
    """The services' states once ``service`` reported its purge, and whether all have."""
    after = {**services, service: PURGED}
    return after, all(state == PURGED for state in after.values())


def stragglers(services: Mapping[str, str]) -> list[str]:
    """The services that have not reported their purge yet."""
    return [service for service, state in services.items() if state != PURGED]
