"""The receipts service's worker: records each agreement's trail from the events, and relays
the service's outbox. Evidence is made by the issuer process (entrypoints/issuer.py).

Run with ``faststream run pactra_receipts.entrypoints.worker:app``.
"""

from pactra_platform.bus import Subscription, service_worker

from .. import handlers
from ..trail import TRAIL_EVENTS
from .app import SERVICE, USES_STORAGE

SUBSCRIPTIONS = (
    Subscription("on_agreement_event", TRAIL_EVENTS, handlers.on_agreement_event),
)

app = service_worker(SERVICE, SUBSCRIPTIONS, uses_storage=USES_STORAGE)
