"""Usage as the services report it: each ``usage.recorded`` counted once per source, in the
transaction that records the event in the inbox.

The worker counts these events one at a time, one transaction each (every service publishes
one per thing it counts). Batching them is a speed matter left to another task; what is
counted does not depend on it.
"""

from pactra_contracts.events import Event, UsageRecorded
from pactra_gateway.service_layer.unit_of_work import GatewayUnitOfWork


def on_usage_recorded(event: Event[UsageRecorded], uow: GatewayUnitOfWork) -> None:
    """Count it, once per source (a redelivered or re-published event changes nothing)."""
    data = event.payload()
    if not data.livemode:
        # Test mode is free (api.md, "Test mode"): a test object's usage never counts against
        # the plan nor is billed. (Reservations are never made for it either.)
        return
    source = data.source_event_id or data.source or event.id
    uow.usage.record(data.workspace_id, data.metric, data.quantity, source,
                     data.occurred_at or event.occurred_at)
