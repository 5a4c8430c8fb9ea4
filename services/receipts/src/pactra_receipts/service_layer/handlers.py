"""Event handlers of the receipts service: ``handle(event, uow)``, run once per event id
(bootstrap.py binds what else a handler needs, such as the object store).

Recording only: making the evidence (fetching the original, sealing, perhaps waiting for a
TSA) happens in the issuer process (issuer.py), so a failure there never rolls back an audit
entry nor dead-letters an event.
"""

import logging
from typing import Any

from pactra_contracts.events import AgreementPurged, Event, WorkspaceDeletionRequested
from pactra_contracts.times import format_time

from ..adapters.purging import ObjectDeleter
from ..domain import trail
from .unit_of_work import ReceiptsUnitOfWork

log = logging.getLogger(__name__)
SERVICE = "receipts"


def on_agreement_event(event: Event[Any], uow: ReceiptsUnitOfWork) -> None:
    """Append the event to its agreement's trail; mark its evidence due once the trail is ready."""
    data = event.payload()
    agreement_id: str = data.agreement_id  # every trail event has one
    if not event.workspace_id:
        raise ValueError(f"{event.type} {event.id} carries no workspace_id")
    agreement = uow.trails.lock(agreement_id, event.workspace_id, getattr(data, "livemode", True))
    if agreement.workspace_id != event.workspace_id:
        # Never let one workspace's event into another's trail; retrying cannot fix it.
        log.error("event names another workspace's agreement; not recorded",
                  extra={"event_id": event.id, "agreement_id": agreement_id})
        return
    at = format_time(event.occurred_at)
    uow.trails.add_entry(agreement.id, trail.chain(agreement, event.type, at, trail.actor_of(event),
                                                   trail.evidence_of(event)))
    trail.note(agreement, event, at, lambda signer_id: uow.trails.signer(agreement.id, signer_id))
    uow.trails.flush()
    # The three reads only once the agreement has ended: until then it cannot be ready.
    if trail.has_ended(agreement) and trail.ready_to_issue(
            agreement, sent=uow.trails.was_sent(agreement.id),
            issued=uow.trails.has_receipt(agreement.id), signers=uow.trails.signers(agreement.id)):
        uow.jobs.mark_due(agreement.id, agreement.workspace_id,
                          event.correlation_id or event.id, event.id)


def on_deletion_requested(event: Event[WorkspaceDeletionRequested], uow: ReceiptsUnitOfWork,
                          store: ObjectDeleter) -> None:
    """Deletion of a workspace (api.md, "Deletion and retention"): its receipts become
    tombstones, the rest of its evidence goes."""
    data = event.payload()
    counts = uow.erasure.begin(data.workspace_id)
    counts |= uow.trails.purge(store, uow.trails.of_workspace(data.workspace_id))
    counts |= uow.erasure.purge_rows(data.workspace_id)
    uow.erasure.report(event, SERVICE, counts)


def on_agreement_purged(event: Event[AgreementPurged], uow: ReceiptsUnitOfWork, store: ObjectDeleter) -> None:
    """Signing purged an agreement (retention, or an early delete): its receipt becomes a
    tombstone and the rest of its evidence goes. Only an agreement of the event's workspace."""
    data = event.payload()
    ids = uow.trails.of_workspace(event.workspace_id, data.agreement_id) if event.workspace_id else []
    counts = uow.trails.purge(store, ids)
    log.info("agreement purged", extra={"agreement_id": data.agreement_id, "reason": data.reason,
                                        "counts": counts})
