"""The ai service's worker: its event handlers, its outbox relay, and the analysis runner.

Run with ``faststream run pactra_ai.entrypoints.worker:app``.
"""

from pactra_platform.bus import Periodic, Subscription, service_worker

from .. import analyses, exports, handlers, purging
from ..service import SERVICE, default_service
from .app import USES_STORAGE

SUBSCRIPTIONS = (
    Subscription("on_workspace_created", ("workspace.created",), handlers.on_workspace_created),
    Subscription("on_workspace_updated", ("workspace.updated",), handlers.on_workspace_updated),
    Subscription("on_document_uploaded", ("document.uploaded",), handlers.on_document_uploaded),
    Subscription("on_document_deleted", ("document.deleted",), handlers.on_document_deleted),
    # Its part of a workspace export (api.md, "Exports").
    Subscription("on_export_requested", ("export.requested",), exports.on_export_requested),
    # Deletion of a workspace (api.md, "Deletion and retention"): purge, then report.
    Subscription("on_workspace_deletion_requested", ("workspace.deletion_requested",),
                 purging.on_deletion_requested),
)
# A pending analysis wakes the runner when it commits; the poll retries failed attempts.
RUN_INTERVAL_SECONDS = 2.0


def run_pending_analyses() -> None:
    analyses.run_pending(default_service())


app = service_worker(SERVICE, SUBSCRIPTIONS, uses_storage=USES_STORAGE, periodic=(
    Periodic("run-analyses", RUN_INTERVAL_SECONDS, run_pending_analyses,
             wake_on=analyses.PENDING_CHANNEL),))
