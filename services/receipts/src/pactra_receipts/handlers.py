"""Event handlers of the receipts service: ``handle(event, uow)``, run once per event id.

The handler only records: making the evidence (fetching the original, sealing, perhaps
waiting for a TSA) happens in the worker's issuer (issuer.py), so a failure there never rolls
back an audit entry nor dead-letters an event.
"""

import logging

from pactra_contracts.events import Event
from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork

from .issuer import mark_due
from .recorder import lock_agreement, ready_to_issue, record

log = logging.getLogger(__name__)


def on_agreement_event(event: Event, uow: SqlAlchemyUnitOfWork) -> None:
    """Append the event to its agreement's trail; mark its evidence due once the trail is ready."""
    agreement_id = event.payload().agreement_id  # type: ignore[attr-defined]
    if not event.workspace_id:
        raise ValueError(f"{event.type} {event.id} carries no workspace_id")
    agreement = lock_agreement(uow.session, agreement_id, event.workspace_id,
                               getattr(event.payload(), "livemode", True))
    if agreement.workspace_id != event.workspace_id:
        # Never let one workspace's event into another's trail; retrying cannot fix it.
        log.error("event names another workspace's agreement; not recorded",
                  extra={"event_id": event.id, "agreement_id": agreement_id})
        return
    record(uow.session, agreement, event)
    if ready_to_issue(uow.session, agreement):
        mark_due(uow.session, agreement, event.correlation_id or event.id, event.id)
