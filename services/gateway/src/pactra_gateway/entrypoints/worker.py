"""The gateway's worker: the outbox relay (``workspace.*`` events), the usage counters
(``usage.recorded`` from every service), statements frozen at each period's end, and
housekeeping.

Run with ``faststream run pactra_gateway.entrypoints.worker:app``.
"""

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy.orm import Session

from pactra_contracts.events import Event
from pactra_gateway.bootstrap import SERVICE, bootstrap
from pactra_gateway.service_layer import billing, deletions, exports
from pactra_gateway.service_layer.unit_of_work import SqlAlchemyGatewayUnitOfWork
from pactra_gateway.service_layer.usage import on_usage_recorded
from pactra_platform.bus.consumer import Subscription
from pactra_platform.bus.scheduled import Periodic
from pactra_platform.bus.worker import build_worker
from pactra_platform.exports import File, contribute

# Grace periods end and stragglers are retried within this long.
DELETION_TICK_SECONDS = 5.0

gw = bootstrap(require_secrets=False)


def on_export_requested(event: Event, uow: SqlAlchemyGatewayUnitOfWork) -> None:
    """The gateway's own part of an export: usage and the account."""
    def files(workspace_id: str, _session: Session) -> Iterable[File]:
        # The account is read in a unit of work of its own: the handler's holds the inbox record.
        return exports.own_files(gw.usage, workspace_id, gw.uow(), gw.settings.max_upload_bytes)
    contribute(event, uow, gw.settings, SERVICE, files)


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


def assemble_exports() -> None:
    exports.fail_stalled(gw.sessions)
    exports.assemble_due(gw.sessions, gw.settings)


def advance_deletions() -> None:
    """Start the purges whose grace period ended; ask the saga's stragglers again."""
    retry_after = timedelta(seconds=gw.settings.deletion_retry_seconds)
    while deletions.advance(gw.uow(), retry_after) == deletions.BATCH:
        pass


app = build_worker(gw.settings, SERVICE, SUBSCRIPTIONS, gw.uow, gw.sessions, periodic=(
    # The deletion saga's clock: grace periods ending, stragglers asked again.
    Periodic("advance-deletions", DELETION_TICK_SECONDS, advance_deletions),
    Periodic("purge-idempotency-records", 3600.0, gw.idempotency.purge_expired),
    # Reservations whose work never reported (it failed after the decision) are given back.
    Periodic("release-stale-reservations", 60.0, gw.usage.release_stale),
    # Each ended period's statements are frozen once (any replica; the first insert wins).
    Periodic("freeze-statements", 300.0, lambda: billing.freeze_due(gw.usage)),
    # The last part of an export wakes this at once; the poll takes over a dead replica's lease.
    Periodic("assemble-exports", 60.0, assemble_exports, wake_on=exports.CHANNEL),
    # Exports older than 7 days are deleted, archive and all (any replica; SKIP LOCKED).
    Periodic("purge-exports", 3600.0, lambda: exports.purge_expired(gw.sessions, gw.settings)),
))
