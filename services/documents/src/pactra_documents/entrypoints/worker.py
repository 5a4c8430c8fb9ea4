"""The documents service's worker: its event handlers and its outbox relay.

Run with ``faststream run pactra_documents.entrypoints.worker:app``.
"""

from functools import partial

from pactra_platform.bus import Subscription, build_worker

from .. import SERVICE
from ..bootstrap import bootstrap
from ..service_layer import exports, handlers, purging
from .app import USES_STORAGE

documents = bootstrap()

SUBSCRIPTIONS = (
    Subscription("on_agreement_created", ("agreement.created",), handlers.on_agreement_created),
    Subscription("on_agreement_ended", handlers.ENDING_EVENTS, handlers.on_agreement_ended),
    Subscription("on_evidence_settled", handlers.SETTLING_EVENTS, handlers.on_evidence_settled),
    # An agreement purged by retention or an early delete: its document, unless still used.
    Subscription("on_agreement_purged", ("agreement.purged",),
                 partial(purging.on_agreement_purged, store=documents.store)),
    # Its part of a workspace export (api.md, "Exports").
    Subscription("on_export_requested", ("export.requested",),
                 partial(exports.on_export_requested, store=documents.store,
                         settings=documents.settings)),
    # Deletion of a workspace (api.md, "Deletion and retention"): purge, then report.
    Subscription("on_workspace_deletion_requested", ("workspace.deletion_requested",),
                 partial(purging.on_deletion_requested, store=documents.store)),
)

app = build_worker(documents.settings, SERVICE, SUBSCRIPTIONS, documents.uow, documents.sessions,
                   uses_storage=USES_STORAGE)
