"""What the email provider reports after sending: Resend's webhooks (issue 14, item 5).

Resend tells of bounces and complaints through webhooks signed by Svix: ``svix-id``,
``svix-timestamp`` and ``svix-signature`` (``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``
under the ``whsec_`` secret). That is the Standard Webhooks scheme under other header names,
so the ``standardwebhooks`` library checks it once the headers are renamed; it also refuses
timestamps more than 5 minutes away. A message id acted on is kept (``provider_events``), so
the same message presented again is refused as a replay.

A bounce or complaint finds its delivery by the provider's message id (Resend's email id, kept
when the email was sent): ``service_layer.email_events`` records it. This module checks the
signature and the message's form.
"""

import json
import logging
from typing import Any

from flask import Blueprint, current_app, g, request
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from pactra_platform.problems import ProblemError

from ..bootstrap import Notify
from ..service_layer.email_events import on_provider_report

log = logging.getLogger(__name__)

bp = Blueprint("email_events", __name__)

# Svix's header names -> the Standard Webhooks names the library reads.
SVIX_HEADERS = {"svix-id": "webhook-id", "svix-timestamp": "webhook-timestamp",
                "svix-signature": "webhook-signature"}


def verified_id(secret: str, body: bytes, headers: dict[str, str]) -> str:
    """The message's ``svix-id`` once its signature and timestamp verify; else a 401 problem."""
    lowered = {name.lower(): value for name, value in headers.items()}
    renamed = {standard: lowered.get(svix, "") for svix, standard in SVIX_HEADERS.items()}
    try:
        Webhook(secret).verify(body, renamed, json_parse=False)
    except WebhookVerificationError as exc:
        # The library's fixed sentences: missing headers, too old, too new, no matching signature.
        reason = str(exc)
    except ValueError:
        # A signature that is not "v1,<base64>", or a body that is not UTF-8.
        reason = "Malformed signature header or body"
    else:
        return renamed["webhook-id"]
    log.warning("Resend webhook refused", extra={"reason": reason})
    raise ProblemError("unauthorized", f"The Svix signature did not verify: {reason}.")


@bp.post("/v1/email-events/resend")
def resend_event() -> dict[str, Any]:
    notify: Notify = current_app.extensions["notify"]
    secret = notify.settings.resend_webhook_secret
    if not secret:
        # Not configured: as if the route did not exist (nothing is told about why).
        raise ProblemError("not_found", f"No route {request.method} {request.path}.")
    body = request.get_data(cache=False)
    message_id = verified_id(secret, body, dict(request.headers))
    if len(message_id) > 200:
        raise ProblemError("bad_request", "svix-id is longer than 200 characters.")
    try:
        message = json.loads(body)
    except ValueError:
        raise ProblemError("invalid_json", "The body is not JSON.") from None
    data = message.get("data") if isinstance(message, dict) else None
    event_type = message.get("type") if isinstance(message, dict) else None
    if not isinstance(event_type, str) or not isinstance(data, dict):
        raise ProblemError("bad_request", "A Resend event has a string `type` and an object `data`.")
    with notify.uow() as uow:
        applied = on_provider_report(uow, message_id=message_id, event_type=event_type, data=data,
                                     request_id=g.get("request_id"))
    return {"received": True, "applied": applied}
