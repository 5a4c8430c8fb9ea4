"""Purging a deleted workspace's analyses (api.md, "Deletion and retention"): analyses, their
cache (scoped by workspace), settings and token counts, the marker, the key."""

from sqlalchemy import delete

from pactra_contracts.events import Event
from pactra_platform import erasure
from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork

from .models import CachedAnalysis

SERVICE = "ai"


def on_deletion_requested(event: Event, uow: SqlAlchemyUnitOfWork) -> None:
    request = erasure.purge_request(event)
    counts = erasure.begin_purge(uow.session, request.workspace_id)
    counts["analysis_cache"] = uow.session.execute(
        delete(CachedAnalysis).where(CachedAnalysis.scope == request.workspace_id)).rowcount
    counts |= erasure.purge_workspace_rows(uow.session, request.workspace_id)
    erasure.report_purged(uow.session, event, SERVICE, counts)
