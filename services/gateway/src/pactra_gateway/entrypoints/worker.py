"""The gateway's worker: the outbox relay (``workspace.*`` events), the usage counters
(``usage.recorded`` from every service), statements frozen at each period's end, and
housekeeping.

Run with ``faststream run pactra_gateway.entrypoints.worker:app``.
"""

from functools import cache

from pactra_contracts.events import Event, UsageRecorded
from pactra_platform.bus import Periodic, Subscription, service_worker
from pactra_platform.crypto import SecretBox
from pactra_platform.db import session_factory
from pactra_platform.settings import get_settings

from .. import billing
from ..bootstrap import SERVICE, usage_for
from ..idempotency import IdempotencyStore
from ..usage import Usage


@cache
def usage() -> Usage:
    settings = get_settings()
    return usage_for(settings, session_factory(settings, SERVICE))


def on_usage_recorded(event: Event, uow) -> None:
    """Count it, once per source (a redelivered or re-published event changes nothing): in
    the transaction that records the event in the inbox."""
    data = event.payload()
    assert isinstance(data, UsageRecorded)
    source = data.source_event_id or data.source or event.id
    usage().record(uow.session.connection(), data.workspace_id, data.metric, data.quantity,
                   source, data.occurred_at or event.occurred_at)


SUBSCRIPTIONS = (
    Subscription("on_usage_recorded", ("usage.recorded",), on_usage_recorded),
)


def purge_idempotency_records() -> None:
    settings = get_settings()
    store = IdempotencyStore(session_factory(settings, SERVICE),
                             SecretBox(settings.master_key, "idempotency"))
    store.purge_expired()


app = service_worker(SERVICE, SUBSCRIPTIONS, periodic=(
    Periodic("purge-idempotency-records", 3600.0, purge_idempotency_records),
    # Reservations whose work never reported (it failed after the decision) are given back.
    Periodic("release-stale-reservations", 60.0, lambda: usage().release_stale()),
    # Each ended period's statements are frozen once (any replica; the first insert wins).
    Periodic("freeze-statements", 300.0, lambda: billing.freeze_due(usage())),
))
