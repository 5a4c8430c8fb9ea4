"""The webhooks API (api.md, "Webhooks"), reached through the gateway as ``/v1/webhooks*``."""

from datetime import timedelta

from flask import Blueprint, Response, current_app, request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pactra_contracts.api import WebhookCreate, WebhookPatch
from pactra_contracts.ids import new_id
from pactra_contracts.problems import FieldError
from pactra_contracts.times import format_time, utcnow
from pactra_platform.db import session_factory
from pactra_platform.messaging import notify_on_commit
from pactra_platform.problems import ProblemError, parse_json_body
from pactra_platform.web import require_workspace

from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from .settings import NotifySettings, get_notify_settings
from .webhook_http import RefusedUrl, check_url
from .webhooks import (
    WEBHOOK_CHANNEL,
    add_deliveries,
    body_json,
    endpoint_json,
    new_secret,
    seal_secret,
)

bp = Blueprint("webhooks", __name__)


def _settings() -> NotifySettings:
    return current_app.config.get("NOTIFY_SETTINGS") or get_notify_settings()


def _session() -> Session:
    return session_factory(_settings(), "notify")()


def _checked_url(url: str) -> str:
    settings = _settings()
    try:
        check_url(url, allow_http=settings.webhooks_allow_http,
                  allow_loopback=settings.webhooks_allow_loopback)
    except RefusedUrl as exc:
        raise ProblemError("validation_error", f"This URL can never receive webhooks: {exc}.",
                           [FieldError(field="url", message=str(exc))]) from None
    return url


def _events(events: list[str]) -> list[str]:
    unique = list(dict.fromkeys(events))
    return ["*"] if "*" in unique else unique


def _page_params() -> tuple[int, str | None]:
    raw = request.args.get("limit", "20")
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        raise ProblemError("validation_error", "limit must be an integer from 1 to 100.",
                           [FieldError(field="limit", message="an integer from 1 to 100")])
    return int(raw), request.args.get("starting_after") or None


def _endpoint(session: Session, workspace_id: str, endpoint_id: str, *,
              lock: bool = False) -> WebhookEndpoint:
    query = select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id,
                                          WebhookEndpoint.workspace_id == workspace_id)
    endpoint = session.scalar(query.with_for_update() if lock else query)
    if endpoint is None:
        raise ProblemError("not_found", "No such webhook endpoint.")
    return endpoint


@bp.post("/v1/webhooks")
def create_endpoint():
    workspace_id = require_workspace()
    cmd = parse_json_body(WebhookCreate, request.get_data(cache=False))
    url = _checked_url(cmd.url)
    settings = _settings()
    now = utcnow()
    with _session() as session:
        # Serializes creations in one workspace, so two at once cannot both pass the limit.
        session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"webhooks/{workspace_id}"))))
        count = session.scalar(select(func.count()).select_from(WebhookEndpoint).where(
            WebhookEndpoint.workspace_id == workspace_id)) or 0
        if count >= settings.webhooks_max_endpoints:
            raise ProblemError("conflict", f"A workspace has at most {settings.webhooks_max_endpoints} "
                                           "webhook endpoints; delete one first.")
        endpoint_id = new_id("whk")
        secret = new_secret()
        endpoint = WebhookEndpoint(
            id=endpoint_id, workspace_id=workspace_id, url=url, description=cmd.description,
            events=_events(cmd.events), enabled=True,
            secret_sealed=seal_secret(settings, workspace_id, endpoint_id, secret), created_at=now,
            updated_at=now)
        session.add(endpoint)
        session.commit()
        # The secret is shown here and on rotation only; it is stored sealed.
        return {**endpoint_json(endpoint), "secret": secret}, 201


@bp.get("/v1/webhooks")
def list_endpoints():
    workspace_id = require_workspace()
    limit, after = _page_params()
    with _session() as session:
        query = select(WebhookEndpoint).where(WebhookEndpoint.workspace_id == workspace_id)
        if after:
            cursor = session.get(WebhookEndpoint, after)
            if cursor is None or cursor.workspace_id != workspace_id:
                raise ProblemError("validation_error", "starting_after is not a webhook endpoint "
                                                       "of this workspace.")
            query = query.where((WebhookEndpoint.created_at, WebhookEndpoint.id)
                                < (cursor.created_at, cursor.id))
        rows = list(session.scalars(query.order_by(WebhookEndpoint.created_at.desc(),
                                                   WebhookEndpoint.id.desc()).limit(limit + 1)))
        page = rows[:limit]
        return {"data": [endpoint_json(e) for e in page], "has_more": len(rows) > limit,
                "next_cursor": page[-1].id if len(rows) > limit else None}


@bp.get("/v1/webhooks/<endpoint_id>")
def get_endpoint(endpoint_id: str):
    workspace_id = require_workspace()
    with _session() as session:
        return endpoint_json(_endpoint(session, workspace_id, endpoint_id))


@bp.patch("/v1/webhooks/<endpoint_id>")
def update_endpoint(endpoint_id: str):
    workspace_id = require_workspace()
    cmd = parse_json_body(WebhookPatch, request.get_data(cache=False))
    with _session() as session:
        endpoint = _endpoint(session, workspace_id, endpoint_id, lock=True)
        if cmd.url is not None:
            endpoint.url = _checked_url(cmd.url)
        if cmd.events is not None:
            endpoint.events = _events(cmd.events)
        if "description" in cmd.model_fields_set:
            endpoint.description = cmd.description
        if cmd.enabled is not None:
            if cmd.enabled and not endpoint.enabled:
                endpoint.failing_since = None  # a fresh start: five more days before disabling
            endpoint.enabled = cmd.enabled
            endpoint.disabled_reason = None
        endpoint.updated_at = utcnow()
        session.commit()
        return endpoint_json(endpoint)


@bp.delete("/v1/webhooks/<endpoint_id>")
def delete_endpoint(endpoint_id: str):
    workspace_id = require_workspace()
    with _session() as session:
        endpoint = _endpoint(session, workspace_id, endpoint_id, lock=True)
        delivery_ids = select(WebhookDelivery.id).where(WebhookDelivery.endpoint_id == endpoint.id)
        session.query(WebhookAttempt).filter(WebhookAttempt.delivery_id.in_(delivery_ids)).delete(
            synchronize_session=False)
        session.query(WebhookDelivery).filter(WebhookDelivery.endpoint_id == endpoint.id).delete(
            synchronize_session=False)
        session.delete(endpoint)
        session.commit()
    return Response(status=204)


@bp.post("/v1/webhooks/<endpoint_id>/rotate-secret")
def rotate_secret(endpoint_id: str):
    workspace_id = require_workspace()
    settings = _settings()
    with _session() as session:
        endpoint = _endpoint(session, workspace_id, endpoint_id, lock=True)
        secret = new_secret()
        now = utcnow()
        # The secret being replaced keeps signing beside the new one, so receivers can switch
        # without dropping a delivery. (Rotating again within the overlap ends the oldest.)
        endpoint.previous_secret_sealed = endpoint.secret_sealed
        endpoint.previous_secret_expires_at = now + timedelta(
            seconds=settings.webhooks_rotation_overlap_seconds)
        endpoint.secret_sealed = seal_secret(settings, endpoint.workspace_id, endpoint.id, secret)
        endpoint.updated_at = now
        session.commit()
        return {"secret": secret,
                "previous_secret_expires_at": format_time(endpoint.previous_secret_expires_at)}


def _delivery_json(delivery: WebhookDelivery, attempts: list[WebhookAttempt]) -> dict:
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


@bp.get("/v1/webhooks/<endpoint_id>/deliveries")
def list_deliveries(endpoint_id: str):
    workspace_id = require_workspace()
    limit, after = _page_params()
    with _session() as session:
        endpoint = _endpoint(session, workspace_id, endpoint_id)
        query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
        if after:
            cursor = session.get(WebhookDelivery, after)
            if cursor is None or cursor.endpoint_id != endpoint.id:
                raise ProblemError("validation_error", "starting_after is not a delivery of this "
                                                       "webhook endpoint.")
            query = query.where((WebhookDelivery.created_at, WebhookDelivery.id)
                                < (cursor.created_at, cursor.id))
        rows = list(session.scalars(query.order_by(WebhookDelivery.created_at.desc(),
                                                   WebhookDelivery.id.desc()).limit(limit + 1)))
        page = rows[:limit]
        attempts: dict[str, list[WebhookAttempt]] = {d.id: [] for d in page}
        if page:
            for attempt in session.scalars(select(WebhookAttempt).where(
                    WebhookAttempt.delivery_id.in_(attempts)).order_by(WebhookAttempt.id)):
                attempts[attempt.delivery_id].append(attempt)
        return {"data": [_delivery_json(d, attempts[d.id]) for d in page],
                "has_more": len(rows) > limit,
                "next_cursor": page[-1].id if len(rows) > limit else None}


@bp.post("/v1/webhooks/<endpoint_id>/deliveries/<delivery_id>/replay")
def replay_delivery(endpoint_id: str, delivery_id: str):
    """The same event (same ``webhook-id`` and body) goes out again, as a new run of the
    retry schedule; its earlier attempts stay in the log."""
    workspace_id = require_workspace()
    with _session() as session:
        endpoint = _endpoint(session, workspace_id, endpoint_id)
        delivery = session.scalar(select(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint.id)
            .with_for_update())
        if delivery is None:
            raise ProblemError("not_found", "No such delivery of this webhook endpoint.")
        if delivery.lease_until is not None and delivery.lease_until > utcnow():
            raise ProblemError("conflict", "This delivery is being attempted right now.")
        delivery.status, delivery.tries = "pending", 0
        delivery.next_attempt_at, delivery.lease_until = utcnow(), None
        notify_on_commit(session, WEBHOOK_CHANNEL)
        session.commit()
        return {"id": delivery.id, "event_id": delivery.event_id, "status": delivery.status}, 202


@bp.post("/v1/webhooks/<endpoint_id>/test")
def send_test(endpoint_id: str):
    """A ``ping`` event to this endpoint (whatever it subscribed to), through the same
    delivery log and schedule as any other."""
    workspace_id = require_workspace()
    with _session() as session:
        endpoint = _endpoint(session, workspace_id, endpoint_id)
        event_id = new_id("evt")
        now = utcnow()
        body = body_json("ping", now, {"webhook_id": endpoint.id, "status": "ok"})
        add_deliveries(session, [endpoint], event_id, "ping", body)
        session.commit()
        delivery_id = session.scalar(select(WebhookDelivery.id).where(
            WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.event_id == event_id))
        return {"id": delivery_id, "event_id": event_id, "status": "pending"}, 202
