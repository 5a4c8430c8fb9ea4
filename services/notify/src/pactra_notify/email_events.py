"""What the email provider reports after sending: Resend's webhooks (issue 14, item 5).

Resend tells of bounces and complaints through webhooks signed by Svix: ``svix-id``,
``svix-timestamp`` and ``svix-signature`` (``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``
under the ``whsec_`` secret). That is the Standard Webhooks scheme under other header names,
so the ``standardwebhooks`` library checks it once the headers are renamed; it also refuses
timestamps more than 5 minutes away. A message id acted on is kept (``provider_events``), so
the same message presented again is refused as a replay.

A bounce or complaint finds its delivery by the provider's message id (Resend's email id, kept
when the email was sent), records it there, and, for an email to a signer, publishes
``signer.bounced`` or ``signer.complained``: signing shows it as the signer's
``delivery_status``, and integrators get it as a webhook. Everything in one transaction.
"""

import json
import logging
from datetime import timedelta

from flask import Blueprint, current_app, g, request
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from pactra_contracts.events import SignerEmailUndelivered, make_event
from pactra_contracts.times import utcnow
from pactra_platform.db import session_factory
from pactra_platform.messaging import add_to_outbox
from pactra_platform.problems import ProblemError

from .models import AgreementParty, Delivery, ProviderEvent
from .settings import NotifySettings, get_notify_settings

log = logging.getLogger(__name__)

bp = Blueprint("email_events", __name__)

# Svix's header names -> the Standard Webhooks names the library reads.
SVIX_HEADERS = {"svix-id": "webhook-id", "svix-timestamp": "webhook-timestamp",
                "svix-signature": "webhook-signature"}
# Resend's event types that say something about the recipient; the others (email.sent,
# email.delivered, email.delivery_delayed, email.opened ...) are acknowledged and ignored.
OUTCOMES = {"email.bounced": "bounced", "email.complained": "complained"}
# Longer than Svix retries one message (about a day and a half): a retry of a message whose
# answer was lost is still recognised.
KEEP_PROVIDER_EVENTS = timedelta(days=3)
SENDER = "sender"  # handlers.SENDER: the party of an agreement's sender


def _settings() -> NotifySettings:
    return current_app.config.get("NOTIFY_SETTINGS") or get_notify_settings()


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
def resend_event():
    settings = _settings()
    if not settings.resend_webhook_secret:
        # Not configured: as if the route did not exist (nothing is told about why).
        raise ProblemError("not_found", f"No route {request.method} {request.path}.")
    body = request.get_data(cache=False)
    message_id = verified_id(settings.resend_webhook_secret, body, dict(request.headers))
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
    with session_factory(settings, "notify")() as session:
        first = session.execute(insert(ProviderEvent).values(
            id=message_id, type=event_type[:60], received_at=utcnow(),
        ).on_conflict_do_nothing().returning(ProviderEvent.id)).first()
        if first is None:
            raise ProblemError("bad_request", "This message (svix-id) was already received.")
        session.execute(delete(ProviderEvent).where(
            ProviderEvent.received_at < utcnow() - KEEP_PROVIDER_EVENTS))
        applied = False
        outcome = OUTCOMES.get(event_type)
        email_id = data.get("email_id")
        if outcome is not None and isinstance(email_id, str) and email_id:
            applied = _record(session, email_id, outcome, _reason(data))
        session.commit()
    return {"received": True, "applied": applied}


def _reason(data: dict) -> str | None:
    """Resend's classification of a bounce ("Permanent/Suppressed"); never its message."""
    bounce = data.get("bounce")
    if not isinstance(bounce, dict):
        return None
    parts = [bounce.get(key) for key in ("type", "subType")]
    shown = "/".join(p for p in parts if isinstance(p, str) and p)
    return shown[:100] or None


def _record(session: Session, email_id: str, outcome: str, reason: str | None) -> bool:
    """Mark the delivery; tell signing (and integrators) when it was a signer's. False when no
    delivery of ours has that id, or it already showed this outcome."""
    delivery = session.scalar(select(Delivery).where(
        Delivery.provider_message_id == email_id[:200]).with_for_update().limit(1))
    if delivery is None:
        # Another sender on the same Resend account, or an email older than its ledger row.
        log.info("Resend event for no delivery of ours", extra={"email_id": email_id[:200]})
        return False
    if delivery.outcome == outcome:
        return False  # the same report again (Resend sent it under another message id)
    delivery.outcome, delivery.outcome_at = outcome, utcnow()
    signer_id = delivery.signer_id or _signer_of(session, delivery)
    if signer_id and delivery.agreement_id and delivery.workspace_id:
        add_to_outbox(session, make_event(
            f"signer.{outcome}",
            SignerEmailUndelivered(agreement_id=delivery.agreement_id, signer_id=signer_id,
                                   delivery_status=outcome, email_kind=delivery.kind,
                                   reason=reason),
            producer="notify", workspace_id=delivery.workspace_id,
            correlation_id=g.get("request_id")))
    log.info("email reported undelivered", extra={
        "delivery_id": delivery.id, "outcome": outcome, "agreement_id": delivery.agreement_id})
    return True


def _signer_of(session: Session, delivery: Delivery) -> str | None:
    """For a delivery recorded before its signer was kept: the one signer of its agreement
    with that address, if exactly one."""
    if delivery.agreement_id is None:
        return None
    parties = session.scalars(select(AgreementParty.party).where(
        AgreementParty.agreement_id == delivery.agreement_id,
        AgreementParty.email == delivery.recipient, AgreementParty.party != SENDER)).all()
    return parties[0] if len(set(parties)) == 1 else None
