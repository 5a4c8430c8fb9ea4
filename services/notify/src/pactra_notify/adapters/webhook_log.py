"""The webhooks' read side: endpoints and deliveries (with their attempts) as the API lists
them and the workspace export holds them, read straight from the tables."""

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pactra_contracts.times import format_time

from ..domain.errors import BadCursor
from ..domain.webhooks import Endpoint
from .orm import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def endpoint_json(endpoint: Endpoint | WebhookEndpoint) -> dict[str, Any]:
    """An endpoint as ``GET /v1/webhooks/{id}`` shows it: never its secrets."""
    return {
        "id": endpoint.id, "url": endpoint.url, "description": endpoint.description,
        "events": list(endpoint.events), "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason,
        "created_at": format_time(endpoint.created_at),
        "updated_at": format_time(endpoint.updated_at),
    }


def delivery_json(delivery: WebhookDelivery, attempts: list[WebhookAttempt]) -> dict[str, Any]:
    return {
        "id": delivery.id, "event_id": delivery.event_id, "type": delivery.type,
        "status": delivery.status, "created_at": format_time(delivery.created_at),
        "delivered_at": format_time(delivery.delivered_at) if delivery.delivered_at else None,
        "next_attempt_at": (format_time(delivery.next_attempt_at)
                            if delivery.next_attempt_at and delivery.status in ("pending", "failed")
                            else None),
        "attempts": [{
            "at": format_time(a.at), "status_code": a.status_code,
            "error": a.error if a.finished else "in progress",
            "duration_ms": a.duration_ms, "response_body": a.response_body,
        } for a in attempts],
    }


def _page(session: Session, model: type[WebhookEndpoint] | type[WebhookDelivery], scope: Any,
          limit: int, after: str | None, cursor_error: str) -> tuple[list[Any], bool]:
    """Newest first, ``limit`` rows after the cursor ``after`` (which must lie in ``scope``),
    and whether more follow."""
    query = select(model).where(scope)
    if after:
        cursor = session.scalar(select(model).where(model.id == after, scope))
        if cursor is None:
            raise BadCursor(cursor_error)
        query = query.where((model.created_at, model.id) < (cursor.created_at, cursor.id))
    rows = list(session.scalars(query.order_by(model.created_at.desc(), model.id.desc()).limit(limit + 1)))
    return rows[:limit], len(rows) > limit


def _listing(data: list[dict[str, Any]], last_id: str | None, has_more: bool) -> dict[str, Any]:
    return {"data": data, "has_more": has_more, "next_cursor": last_id if has_more else None}


def endpoints_page(session: Session, workspace_id: str, limit: int, after: str | None) -> dict[str, Any]:
    page, more = _page(session, WebhookEndpoint, WebhookEndpoint.workspace_id == workspace_id,
                       limit, after, "starting_after is not a webhook endpoint of this workspace.")
    return _listing([endpoint_json(e) for e in page], page[-1].id if page else None, more)


def deliveries_page(session: Session, endpoint_id: str, limit: int, after: str | None) -> dict[str, Any]:
    page, more = _page(session, WebhookDelivery, WebhookDelivery.endpoint_id == endpoint_id,
                       limit, after, "starting_after is not a delivery of this webhook endpoint.")
    attempts: dict[str, list[WebhookAttempt]] = {d.id: [] for d in page}
    if page:
        for attempt in session.scalars(select(WebhookAttempt).where(
                WebhookAttempt.delivery_id.in_(attempts)).order_by(WebhookAttempt.id)):
            attempts[attempt.delivery_id].append(attempt)
    return _listing([delivery_json(d, attempts[d.id]) for d in page], page[-1].id if page else None, more)


def workspace_endpoints(session: Session, workspace_id: str) -> Iterator[dict[str, Any]]:
    rows = session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.workspace_id == workspace_id)
                           .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id))
    for endpoint in rows:
        shown = endpoint_json(endpoint)
        # endpoint_json never carries the secret; checked here too, as the export leaves Pactra.
        assert "secret" not in shown
        yield shown


def workspace_deliveries(session: Session, workspace_id: str) -> Iterator[dict[str, Any]]:
    """Every delivery of the workspace with its attempts and its ``endpoint_id``, in one pass
    over deliveries joined to their attempts, grouped as they come: bounded memory whatever
    the log's length."""
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
            yield {"endpoint_id": current.endpoint_id, **delivery_json(current, attempts)}
            attempts = []
        current = delivery
        if attempt is not None:
            attempts.append(attempt)
    if current is not None:
        yield {"endpoint_id": current.endpoint_id, **delivery_json(current, attempts)}
