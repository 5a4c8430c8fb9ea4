"""The receipts service's worker: records each agreement's trail from the events, and relays
the service's outbox. Evidence is made by the issuer process (entrypoints/issuer.py).

Run with ``faststream run pactra_receipts.entrypoints.worker:app``.
"""

from pactra_platform.bus import Subscription, service_worker
from pactra_platform.bus.scheduled import Periodic
from pactra_platform.db import session_factory
from pactra_platform.settings import get_settings

from .. import exports, handlers, purging
from ..trail import TRAIL_EVENTS
from .app import SERVICE, USES_STORAGE

SUBSCRIPTIONS = (
    Subscription("on_agreement_event", TRAIL_EVENTS, handlers.on_agreement_event),
    # Deletion of a workspace (api.md, "Deletion and retention"): tombstones, then the purge.
    Subscription("on_workspace_deletion_requested", ("workspace.deletion_requested",),
                 purging.on_deletion_requested),
    # An agreement purged by retention or an early delete: its receipt becomes a tombstone.
    Subscription("on_agreement_purged", ("agreement.purged",), purging.on_agreement_purged),
    # Its part of a workspace export (api.md, "Exports").
    Subscription("on_export_requested", ("export.requested",), exports.on_export_requested),
)



def _expire_tombstones() -> None:
    settings = get_settings()
    with session_factory(settings, SERVICE)() as session:
        purging.purge_expired_tombstones(session, settings.evidence_retention_days)


# Daily; SKIP LOCKED lets replicas run it together without deleting a row twice.
PERIODIC = (Periodic("expire_tombstones", 24 * 3600.0, _expire_tombstones),)

app = service_worker(SERVICE, SUBSCRIPTIONS, uses_storage=USES_STORAGE, periodic=PERIODIC)
