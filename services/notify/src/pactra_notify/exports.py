"""The notify service's part of a workspace export (api.md, "Exports"): ``webhooks.json``, the
endpoints as ``GET /v1/webhooks/{id}`` shows them (never their secrets), and
``deliveries.json``, every webhook delivery with its attempts as the delivery log shows it,
each with its ``endpoint_id``."""

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from pactra_contracts.events import Event
from pactra_platform.exports import File, contribute, json_array
from pactra_platform.settings import get_settings

from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from .webhooks import endpoint_json
from .webhooks_api import _delivery_json  # the delivery log's one definition

SERVICE = "notify"


def _endpoints(session: Session, workspace_id: str) -> Iterator[dict]:
    rows = session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.workspace_id == workspace_id)
                           .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id))
    for endpoint in rows:
        shown = endpoint_json(endpoint)
        # endpoint_json never carries the secret; checked here too, as the export leaves Pactra.
        assert "secret" not in shown
        yield shown


def _deliveries(session: Session, workspace_id: str) -> Iterator[dict]:
    # One pass over deliveries joined to their attempts, grouped as they come: bounded memory
    # whatever the log's length.
    rows = session.execute(
        select(WebhookDelivery, WebhookAttempt)
        .outerjoin(WebhookAttempt, WebhookAttempt.delivery_id == WebhookDelivery.id)
        .where(WebhookDelivery.workspace_id == workspace_id)
        .order_by(WebhookDelivery.created_at, WebhookDelivery.id, WebhookAttempt.id),
        execution_options={"yield_per": 500})
    current: WebhookDelivery | None = None
    attempts: list[WebhookAttempt] = []
    for delivery, attempt in rows:
        if current is not None and delivery.id != current.id:
            yield {"endpoint_id": current.endpoint_id, **_delivery_json(current, attempts)}
            attempts = []
        current = delivery
        if attempt is not None:
            attempts.append(attempt)
    if current is not None:
        yield {"endpoint_id": current.endpoint_id, **_delivery_json(current, attempts)}


def files(workspace_id: str, session: Session) -> Iterator[File]:
    yield "webhooks.json", json_array(_endpoints(session, workspace_id))
    yield "deliveries.json", json_array(_deliveries(session, workspace_id))


def on_export_requested(event: Event, uow) -> None:
    contribute(event, uow, get_settings(), SERVICE, files)
