"""Purging a deleted workspace's notifications (api.md, "Deletion and retention"): deliveries,
signer links, parties, owners, webhook endpoints with their deliveries and attempts, the
marker, the key."""

import logging

from sqlalchemy import delete, select

from pactra_contracts.events import AgreementPurged, Event
from pactra_platform import erasure
from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork

from .models import AgreementParty, Delivery, SignerLink, WebhookAttempt, WebhookDelivery

SERVICE = "notify"
log = logging.getLogger(__name__)


def on_deletion_requested(event: Event, uow: SqlAlchemyUnitOfWork) -> None:
    request = erasure.purge_request(event)
    session = uow.session
    counts = erasure.begin_purge(session, request.workspace_id)
    # Attempts name only their delivery: they go first, while the deliveries still say whose.
    counts["webhook_attempts"] = session.execute(delete(WebhookAttempt).where(
        WebhookAttempt.delivery_id.in_(select(WebhookDelivery.id).where(
            WebhookDelivery.workspace_id == request.workspace_id)))).rowcount
    counts |= erasure.purge_workspace_rows(session, request.workspace_id)
    erasure.report_purged(session, event, SERVICE, counts)


def on_agreement_purged(event: Event, uow: SqlAlchemyUnitOfWork) -> None:
    """Signing purged an agreement (retention, or an early delete): the signer details notify
    holds for it go, its parties (names, emails), their sealed links and the record of each
    email sent (the recipient's address). Agreement ids are unique across workspaces, and
    rows recorded before they kept a workspace id have none: the agreement id decides."""
    data = event.payload()
    assert isinstance(data, AgreementPurged)
    counts = {}
    for model in (AgreementParty, SignerLink, Delivery):
        counts[model.__tablename__] = uow.session.execute(
            delete(model).where(model.agreement_id == data.agreement_id)).rowcount
    log.info("agreement purged", extra={"agreement_id": data.agreement_id, "reason": data.reason,
                                        "counts": counts})
