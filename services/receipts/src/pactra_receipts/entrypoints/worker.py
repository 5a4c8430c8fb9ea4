"""The receipts service's worker: records each agreement's trail from the events, and relays
the service's outbox. Evidence is made by the issuer process (entrypoints/issuer.py).

Run with ``faststream run pactra_receipts.entrypoints.worker:app``.
"""

from faststream import FastStream

from pactra_platform.bus.scheduled import Periodic
from pactra_platform.bus.worker import build_worker

from ..adapters.purging import purge_expired_tombstones
from ..bootstrap import SERVICE, USES_STORAGE, Receipts, bootstrap


def create_worker(receipts: Receipts) -> FastStream:
    def expire_tombstones() -> None:
        with receipts.sessions() as session:
            purge_expired_tombstones(session, receipts.settings.evidence_retention_days)

    # Daily; SKIP LOCKED lets replicas run it together without deleting a row twice.
    periodic = (Periodic("expire_tombstones", 24 * 3600.0, expire_tombstones),)
    return build_worker(receipts.settings, SERVICE, receipts.subscriptions, receipts.uow,
                        receipts.sessions, uses_storage=USES_STORAGE, periodic=periodic)


receipts = bootstrap()
# What pactra-migrate declares and readiness checks: the queues of these handlers.
SUBSCRIPTIONS = receipts.subscriptions
app = create_worker(receipts)
