"""Purging a deleted workspace's agreements (api.md, "Deletion and retention"): agreements with
their signers and fields (ON DELETE CASCADE), the workspace's sender, the marker, the key.

The platform's erasure does it table by table on the session, so this handler takes the
SQLAlchemy unit of work itself rather than the repositories."""

from typing import Any

from pactra_contracts.events import Event
from pactra_platform import erasure

from .unit_of_work import SqlUnitOfWork

SERVICE = "signing"


def on_deletion_requested(event: Event[Any], uow: SqlUnitOfWork) -> None:
    request = erasure.purge_request(event)
    counts = erasure.begin_purge(uow.session, request.workspace_id)
    counts |= erasure.purge_workspace_rows(uow.session, request.workspace_id)
    erasure.report_purged(uow.session, event, SERVICE, counts)
