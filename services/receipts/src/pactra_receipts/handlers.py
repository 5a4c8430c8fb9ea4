"""Event handlers of the receipts service: ``handle(event, uow)``, run once per event id."""

import logging

from sqlalchemy.dialects.postgresql import insert

from pactra_contracts.events import Event, ReceiptFailed, make_event
from pactra_platform.messaging import add_to_outbox
from pactra_platform.settings import get_settings
from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork

from . import bootstrap
from .models import EvidenceFailure
from .recorder import lock_agreement, ready_to_issue, record

log = logging.getLogger(__name__)


def on_agreement_event(event: Event, uow: SqlAlchemyUnitOfWork) -> None:
    """Append the event to its agreement's trail; issue the receipt once the trail is ready."""
    agreement_id = event.payload().agreement_id  # type: ignore[attr-defined]
    if not event.workspace_id:
        raise ValueError(f"{event.type} {event.id} carries no workspace_id")
    agreement = lock_agreement(uow.session, agreement_id, event.workspace_id)
    if agreement.workspace_id != event.workspace_id:
        # Never let one workspace's event into another's trail; retrying cannot fix it.
        log.error("event names another workspace's agreement; not recorded",
                  extra={"event_id": event.id, "agreement_id": agreement_id})
        return
    record(uow.session, agreement, event)
    if not ready_to_issue(uow.session, agreement):
        return
    try:
        bootstrap.evidence_maker().issue(uow.session, agreement, event, uow.publish)
    except Exception as exc:
        report_failure(event, agreement_id, event.workspace_id, f"{type(exc).__name__}: {exc}")
        raise


def report_failure(cause: Event, agreement_id: str, workspace_id: str, reason: str) -> None:
    """Say that evidence failed, in a transaction of its own: the handler's is about to roll
    back so the bus retries the event, and this must survive that."""
    reason = reason[:2000]
    log.warning("evidence failed", extra={"agreement_id": agreement_id, "reason": reason})
    with bootstrap.sessions(get_settings())() as session:
        session.execute(
            insert(EvidenceFailure).values(agreement_id=agreement_id, reason=reason)
            .on_conflict_do_update(index_elements=["agreement_id"], set_={"reason": reason})
        )
        add_to_outbox(session, make_event(
            "receipt.failed", ReceiptFailed(agreement_id=agreement_id, reason=reason),
            producer=bootstrap.SERVICE, workspace_id=workspace_id,
            correlation_id=cause.correlation_id, causation_id=cause.id,
        ))
        session.commit()
