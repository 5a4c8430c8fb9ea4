"""An export's states and rules (api.md, "Exports"):

    pending --first part--> running --last part, assembled--> ready
       |                       |
       +-- a part missing after PARTS_DEADLINE, or unreadable --> failed

A part counts once per service, only while the export is still collecting, and only for the
export's own workspace; a ready export is kept ``KEPT`` and its download links work
``LINK_VALID`` each.
"""

from collections.abc import Collection, Mapping
from datetime import timedelta
from typing import Any

PENDING = "pending"
RUNNING = "running"
READY = "ready"
FAILED = "failed"
COLLECTING = (PENDING, RUNNING)

KEPT = timedelta(days=7)
LINK_VALID = timedelta(hours=24)
# A replica that claimed an export and died lets another take it over after this long.
ASSEMBLY_LEASE = timedelta(minutes=30)
# Parts that have not all arrived by then will not: the export fails (the user asks again).
PARTS_DEADLINE = timedelta(hours=2)


def accepts_part(status: str, workspace_id: str, part_workspace_id: str | None, service: str,
                 services: Collection[str]) -> bool:
    """Whether a service's part counts (a late redelivery, or a part for another workspace or
    from a service that has none, changes nothing)."""
    return status in COLLECTING and workspace_id == part_workspace_id and service in services


def with_part(parts: Mapping[str, Any], service: str, part: Mapping[str, Any]) -> dict[str, Any]:
    """The parts once ``service``'s has arrived (a second one from it replaces the first)."""
    return {**parts, service: dict(part)}


def complete(parts_done: int, parts_total: int) -> bool:
    """Every part is in: the export can be assembled."""
    return parts_done >= parts_total
