"""Purging a deleted workspace's agreements (api.md, "Deletion and retention"): agreements with
their signers and fields (ON DELETE CASCADE), the workspace's sender, the marker, the key."""

from pactra_contracts.events import Event
from pactra_platform import erasure
from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork

SERVICE = "signing"


def on_deletion_requested(event: Event, uow: SqlAlchemyUnitOfWork) -> None:
    request = erasure.purge_request(event)
    counts = erasure.begin_purge(uow.session, request.workspace_id)
    counts |= erasure.purge_workspace_rows(uow.session, request.workspace_id)
    erasure.report_purged(uow.session, event, SERVICE, counts)
