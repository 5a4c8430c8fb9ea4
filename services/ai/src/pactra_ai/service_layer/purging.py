"""Purging a deleted workspace's analyses (api.md, "Deletion and retention"): analyses, their
cache (scoped by workspace), settings and token counts, the marker, the key."""

from pactra_contracts.events import Event, WorkspaceDeletionRequested

from .unit_of_work import AbstractUnitOfWork


def on_deletion_requested(event: Event[WorkspaceDeletionRequested], uow: AbstractUnitOfWork) -> None:
    uow.report_purged(event, uow.erase_workspace(event.payload().workspace_id))
