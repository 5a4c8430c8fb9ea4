"""The gateway's worker: the outbox relay (``workspace.*`` events), the usage counters
(``usage.recorded`` from every service), statements frozen at each period's end, and
housekeeping.

Run with ``faststream run pactra_gateway.entrypoints.worker:app``.
"""

from datetime import timedelta
from functools import cache

from pactra_contracts.events import Event, UsageRecorded
from pactra_platform.bus import Periodic, Subscription, service_worker
from pactra_platform.db import session_factory
from pactra_platform.exports import contribute
from pactra_platform.settings import get_settings
from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork

from .. import billing, deletions, exports
from ..bootstrap import SERVICE, usage_for
from ..idempotency import IdempotencyStore, body_cipher
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
    if not data.livemode:
        # Test mode is free (api.md, "Test mode"): a test object's usage never counts against
        # the plan nor is billed. (Reservations are never made for it either.)
        return
    source = data.source_event_id or data.source or event.id
    # Test mode is free and counted apart (api.md, "Test mode"): under ``test:<metric>``,
    # which no quota, usage report or statement reads.
    metric = data.metric if data.livemode else f"test:{data.metric}"
    usage().record(uow.session.connection(), data.workspace_id, metric, data.quantity,
                   source, data.occurred_at or event.occurred_at)


def on_export_requested(event: Event, uow) -> None:
    """The gateway's own part of an export: usage and the account."""
    settings = get_settings()
    # The account is read in a unit of work of its own: the handler's holds the inbox record.
    contribute(event, uow, settings, SERVICE, lambda workspace_id, _session: exports.own_files(
        usage(), workspace_id, SqlAlchemyUnitOfWork(session_factory(settings, SERVICE)),
        settings.max_upload_bytes))


def assemble_exports() -> None:
    settings = get_settings()
    exports.fail_stalled(session_factory(settings, SERVICE))
    exports.assemble_due(session_factory(settings, SERVICE), settings)


def purge_exports() -> None:
    settings = get_settings()
    exports.purge_expired(session_factory(settings, SERVICE), settings)


SUBSCRIPTIONS = (
    Subscription("on_usage_recorded", ("usage.recorded",), on_usage_recorded),
    # Exports (api.md, "Exports"): the gateway's own part, and every service's part arriving.
    Subscription("on_export_requested", ("export.requested",), on_export_requested),
    Subscription("on_export_part_ready", ("export.part_ready",), exports.on_part_ready),
    # A workspace's deletion (api.md, "Deletion and retention"): the gateway's own purge, and
    # each service's report, which moves the saga on.
    Subscription("on_workspace_deletion_requested", ("workspace.deletion_requested",),
                 deletions.on_deletion_requested),
    Subscription("on_workspace_purged", ("workspace.purged",), deletions.on_workspace_purged),
)


def advance_deletions() -> None:
    """Start the purges whose grace period ended; ask the saga's stragglers again."""
    settings = get_settings()
    while deletions.advance(SqlAlchemyUnitOfWork(session_factory(settings, SERVICE)),
                            timedelta(seconds=settings.deletion_retry_seconds)) == 100:
        pass


# Grace periods end and stragglers are retried within this long.
DELETION_TICK_SECONDS = 5.0


def purge_idempotency_records() -> None:
    settings = get_settings()
    sessions = session_factory(settings, SERVICE)
    store = IdempotencyStore(sessions, body_cipher(settings.master_key, sessions))
    store.purge_expired()


app = service_worker(SERVICE, SUBSCRIPTIONS, periodic=(
    # The deletion saga's clock: grace periods ending, stragglers asked again.
    Periodic("advance-deletions", DELETION_TICK_SECONDS, advance_deletions),
    Periodic("purge-idempotency-records", 3600.0, purge_idempotency_records),
    # Reservations whose work never reported (it failed after the decision) are given back.
    Periodic("release-stale-reservations", 60.0, lambda: usage().release_stale()),
    # Each ended period's statements are frozen once (any replica; the first insert wins).
    Periodic("freeze-statements", 300.0, lambda: billing.freeze_due(usage())),
    # The last part of an export wakes this at once; the poll takes over a dead replica's lease.
    Periodic("assemble-exports", 60.0, assemble_exports, wake_on=exports.CHANNEL),
    # Exports older than 7 days are deleted, archive and all (any replica; SKIP LOCKED).
    Periodic("purge-exports", 3600.0, purge_exports),
))
