"""The gateway's worker: the outbox relay (``workspace.*`` events) and housekeeping.

Run with ``faststream run pactra_gateway.entrypoints.worker:app``.
"""

from pactra_platform.bus import Periodic, service_worker
from pactra_platform.crypto import SecretBox
from pactra_platform.db import session_factory
from pactra_platform.settings import get_settings

from ..bootstrap import SERVICE
from ..idempotency import IdempotencyStore

SUBSCRIPTIONS = ()  # the gateway consumes no events


def purge_idempotency_records() -> None:
    settings = get_settings()
    store = IdempotencyStore(session_factory(settings, SERVICE),
                             SecretBox(settings.master_key, "idempotency"))
    store.purge_expired()


app = service_worker(SERVICE, SUBSCRIPTIONS, periodic=(
    Periodic("purge-idempotency-records", 3600.0, purge_idempotency_records),))
