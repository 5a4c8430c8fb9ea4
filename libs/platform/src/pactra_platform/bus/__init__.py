"""The message bus, one module per concern:

- ``topology``: the exchange, each handler's queue, dead letters; declaring them
  (``pactra-migrate``), checking them passively, and each service user's permissions;
- ``consumer``: subscribing handlers, the inbox (one effect per event id), retries and
  dead letters;
- ``relay``: the outbox relay and the purge of published rows;
- ``scheduled``: periodic jobs (``Periodic``) and their runner;
- ``worker``: assembling a service's FastStream app (``build_worker``, ``service_worker``).

The LISTEN/NOTIFY wake-ups these use live beside the database, in ``pactra_platform.db_wakeups``.

Transitional: the names below are re-exported because services and tests, some being edited
right now, still import them from ``pactra_platform.bus``. New code imports from the module
that owns the name (``from pactra_platform.bus.worker import service_worker``); once no import
of the package itself is left, this list goes.
"""

from ..db_wakeups import Wakeups
from .consumer import Subscription, retry_delay, run_handler
from .relay import OUTBOX_PURGE_SECONDS, OutboxRelay, purge_outbox
from .scheduled import Periodic
from .topology import (
    QUEUE_VERSION,
    UNROUTED_TTL_MS,
    BrokerAccess,
    Topology,
    broker_access,
    check_topology,
    declare_topology,
)
from .worker import build_worker, service_worker

__all__ = [
    "OUTBOX_PURGE_SECONDS",
    "QUEUE_VERSION",
    "UNROUTED_TTL_MS",
    "BrokerAccess",
    "OutboxRelay",
    "Periodic",
    "Subscription",
    "Topology",
    "Wakeups",
    "broker_access",
    "build_worker",
    "check_topology",
    "declare_topology",
    "purge_outbox",
    "retry_delay",
    "run_handler",
    "service_worker",
]
