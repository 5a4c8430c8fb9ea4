"""The webhooks API (api.md, "Webhooks"), reached through the gateway as ``/v1/webhooks*``:
requests parsed here, commands run by ``service_layer.webhooks``, lists read by
``adapters.webhook_log``."""

from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, current_app, request

from pactra_contracts.api import WebhookCreate, WebhookPatch
from pactra_contracts.problems import FieldError
from pactra_contracts.times import format_time
from pactra_platform.problems import ProblemError, parse_json_body
from pactra_platform.web import require_workspace

from ..adapters import webhook_log
from ..adapters.webhook_http import check_url
from ..bootstrap import Notify
from ..service_layer import webhooks

bp = Blueprint("webhooks", __name__)


def _notify() -> Notify:
    return current_app.extensions["notify"]


def _checked_url(url: str) -> str:
    """Refused (``RefusedUrl``) when the URL can never receive webhooks."""
    settings = _notify().settings
    check_url(url, allow_http=settings.webhooks_allow_http,
              allow_loopback=settings.webhooks_allow_loopback)
    return url


def _page_params() -> tuple[int, str | None]:
    raw = request.args.get("limit", "20")
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        raise ProblemError("validation_error", "limit must be an integer from 1 to 100.",
                           [FieldError(field="limit", message="an integer from 1 to 100")])
    return int(raw), request.args.get("starting_after") or None


@bp.post("/v1/webhooks")
def create_endpoint() -> tuple[dict[str, Any], int]:
    workspace_id = require_workspace()
    cmd = parse_json_body(WebhookCreate, request.get_data(cache=False))
    notify = _notify()
    url = _checked_url(cmd.url)
    with notify.uow() as uow:
        endpoint, secret = webhooks.create_endpoint(
            uow, notify.secrets, workspace_id=workspace_id, url=url, description=cmd.description,
            events=cmd.events, max_endpoints=notify.settings.webhooks_max_endpoints)
    # The secret is shown here and on rotation only; it is stored sealed.
    return {**webhook_log.endpoint_json(endpoint), "secret": secret}, 201


@bp.get("/v1/webhooks")
def list_endpoints() -> dict[str, Any]:
    workspace_id = require_workspace()
    limit, after = _page_params()
    with _notify().sessions() as session:
        return webhook_log.endpoints_page(session, workspace_id, limit, after)


@bp.get("/v1/webhooks/<endpoint_id>")
def get_endpoint(endpoint_id: str) -> dict[str, Any]:
    workspace_id = require_workspace()
    with _notify().uow() as uow:
        return webhook_log.endpoint_json(webhooks.endpoint_of(uow, workspace_id, endpoint_id))


@bp.patch("/v1/webhooks/<endpoint_id>")
def update_endpoint(endpoint_id: str) -> dict[str, Any]:
    workspace_id = require_workspace()
    cmd = parse_json_body(WebhookPatch, request.get_data(cache=False))
    changes: dict[str, Any] = {"events": cmd.events, "enabled": cmd.enabled}
    if cmd.url is not None:
        changes["url"] = _checked_url(cmd.url)
    if "description" in cmd.model_fields_set:
        changes["description"] = cmd.description
    with _notify().uow() as uow:
        endpoint = webhooks.update_endpoint(uow, workspace_id=workspace_id, endpoint_id=endpoint_id,
                                            **changes)
    return webhook_log.endpoint_json(endpoint)


@bp.delete("/v1/webhooks/<endpoint_id>")
def delete_endpoint(endpoint_id: str) -> Response:
    workspace_id = require_workspace()
    with _notify().uow() as uow:
        webhooks.delete_endpoint(uow, workspace_id=workspace_id, endpoint_id=endpoint_id)
    return Response(status=204)


@bp.post("/v1/webhooks/<endpoint_id>/rotate-secret")
def rotate_secret(endpoint_id: str) -> dict[str, Any]:
    workspace_id = require_workspace()
    notify = _notify()
    with notify.uow() as uow:
        secret, previous_expires_at = webhooks.rotate_secret(
            uow, notify.secrets, workspace_id=workspace_id, endpoint_id=endpoint_id,
            overlap=timedelta(seconds=notify.settings.webhooks_rotation_overlap_seconds))
    return {"secret": secret, "previous_secret_expires_at": format_time(previous_expires_at)}


@bp.get("/v1/webhooks/<endpoint_id>/deliveries")
def list_deliveries(endpoint_id: str) -> dict[str, Any]:
    workspace_id = require_workspace()
    limit, after = _page_params()
    with _notify().uow() as uow:
        endpoint = webhooks.endpoint_of(uow, workspace_id, endpoint_id)
        return webhook_log.deliveries_page(uow.session, endpoint.id, limit, after)


@bp.post("/v1/webhooks/<endpoint_id>/deliveries/<delivery_id>/replay")
def replay_delivery(endpoint_id: str, delivery_id: str) -> tuple[dict[str, Any], int]:
    workspace_id = require_workspace()
    with _notify().uow() as uow:
        delivery = webhooks.replay_delivery(uow, workspace_id=workspace_id, endpoint_id=endpoint_id,
                                            delivery_id=delivery_id)
    return {"id": delivery.id, "event_id": delivery.event_id, "status": delivery.status}, 202


@bp.post("/v1/webhooks/<endpoint_id>/test")
def send_test(endpoint_id: str) -> tuple[dict[str, Any], int]:
    workspace_id = require_workspace()
    with _notify().uow() as uow:
        delivery_id, event_id = webhooks.send_test(uow, workspace_id=workspace_id,
                                                   endpoint_id=endpoint_id)
    return {"id": delivery_id, "event_id": event_id, "status": "pending"}, 202
