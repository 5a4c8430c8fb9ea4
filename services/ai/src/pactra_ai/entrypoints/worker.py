"""The ai service's worker: its event handlers, its outbox relay, and the analysis runner.

Run with ``faststream run pactra_ai.entrypoints.worker:app``.
"""

from typing import Any

from pactra_contracts.events import DocumentUploaded, Event
from pactra_platform.bus.consumer import Subscription
from pactra_platform.bus.scheduled import Periodic
from pactra_platform.bus.worker import build_worker

from ..bootstrap import bootstrap
from ..config import SERVICE
from ..service_layer import analyses, exports, handlers, purging
from ..service_layer.unit_of_work import PENDING_CHANNEL, AbstractUnitOfWork
from .app import USES_STORAGE

ai = bootstrap()


def on_document_uploaded(event: Event[DocumentUploaded], uow: AbstractUnitOfWork) -> None:
    handlers.on_document_uploaded(event, uow, ai.service)


def on_export_requested(event: Event[Any], uow: AbstractUnitOfWork) -> None:
    exports.on_export_requested(event, uow, ai.config)


SUBSCRIPTIONS = (
    Subscription("on_workspace_created", ("workspace.created",), handlers.on_workspace_created),
    Subscription("on_workspace_updated", ("workspace.updated",), handlers.on_workspace_updated),
    Subscription("on_document_uploaded", ("document.uploaded",), on_document_uploaded),
    Subscription("on_document_deleted", ("document.deleted",), handlers.on_document_deleted),
    # Its part of a workspace export (api.md, "Exports").
    Subscription("on_export_requested", ("export.requested",), on_export_requested),
    # Deletion of a workspace (api.md, "Deletion and retention"): purge, then report.
    Subscription("on_workspace_deletion_requested", ("workspace.deletion_requested",),
                 purging.on_deletion_requested),
)
# A pending analysis wakes the runner when it commits; the poll retries failed attempts.
RUN_INTERVAL_SECONDS = 2.0


def run_pending_analyses() -> None:
    analyses.run_pending(ai.service)


app = build_worker(ai.config, SERVICE, SUBSCRIPTIONS, ai.uow, ai.sessions, uses_storage=USES_STORAGE,
                   periodic=(Periodic("run-analyses", RUN_INTERVAL_SECONDS, run_pending_analyses,
                                      wake_on=PENDING_CHANNEL),))
