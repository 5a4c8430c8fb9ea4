"""Purging a deleted workspace's notifications (api.md, "Deletion and retention"): deliveries,
signer links, parties, owners, webhook endpoints with their deliveries and attempts, the
marker, the key. The platform's erasure saga over notify's tables: SQL only, no rule of
notify's (an agreement purged alone is ``service_layer.handlers.on_agreement_purged``)."""

from sqlalchemy import delete, select

from pactra_contracts.events import Event
from pactra_platform import erasure
from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork

from .orm import WebhookAttempt, WebhookDelivery

SERVICE = "notify"


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

