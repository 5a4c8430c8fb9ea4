"""The gateway's worker: the outbox relay (``workspace.*`` events) and housekeeping.

Run with ``faststream run pactra_gateway.entrypoints.worker:app``.
"""

from pactra_platform.bus import Periodic, build_worker
from pactra_platform.crypto import SecretBox
from pactra_platform.db import session_factory
from pactra_platform.settings import get_settings
from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork

from ..bootstrap import SERVICE
from ..idempotency import IdempotencyStore

SUBSCRIPTIONS = ()  # the gateway consumes no events
USES_STORAGE = False

settings = get_settings()
sessions = session_factory(settings, SERVICE)


def purge_idempotency_records() -> None:
    IdempotencyStore(sessions, SecretBox(settings.master_key, "idempotency")).purge_expired()


app = build_worker(
    settings, SERVICE, SUBSCRIPTIONS, lambda: SqlAlchemyUnitOfWork(sessions), sessions,
    periodic=(Periodic("purge-idempotency-records", 3600.0, purge_idempotency_records),),
)
