"""The documents service's worker: its event handlers and its outbox relay.

Run with ``faststream run pactra_documents.entrypoints.worker:app``.
"""

from pactra_platform.bus import Subscription, service_worker

from .. import exports, handlers, purging
from .app import SERVICE, USES_STORAGE

SUBSCRIPTIONS = (
    Subscription("on_agreement_created", ("agreement.created",), handlers.on_agreement_created),
    Subscription("on_agreement_ended", handlers.ENDING_EVENTS, handlers.on_agreement_ended),
    Subscription("on_evidence_settled", handlers.SETTLING_EVENTS, handlers.on_evidence_settled),
    # An agreement purged by retention or an early delete: its document, unless still used.
    Subscription("on_agreement_purged", ("agreement.purged",), purging.on_agreement_purged),
    # Its part of a workspace export (api.md, "Exports").
    Subscription("on_export_requested", ("export.requested",), exports.on_export_requested),
    # Deletion of a workspace (api.md, "Deletion and retention"): purge, then report.
    Subscription("on_workspace_deletion_requested", ("workspace.deletion_requested",),
                 purging.on_deletion_requested),
)

app = service_worker(SERVICE, SUBSCRIPTIONS, uses_storage=USES_STORAGE)
