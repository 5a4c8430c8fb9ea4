"""The documents service's worker: its event handlers and its outbox relay.

Run with ``faststream run pactra_documents.entrypoints.worker:app``.
"""

from pactra_platform.bus import Subscription, service_worker

from .. import handlers
from .app import SERVICE, USES_STORAGE

SUBSCRIPTIONS = (
    Subscription("on_agreement_created", ("agreement.created",), handlers.on_agreement_created),
    Subscription("on_agreement_ended", handlers.ENDING_EVENTS, handlers.on_agreement_ended),
    Subscription("on_evidence_settled", handlers.SETTLING_EVENTS, handlers.on_evidence_settled),
)

app = service_worker(SERVICE, SUBSCRIPTIONS, uses_storage=USES_STORAGE)
