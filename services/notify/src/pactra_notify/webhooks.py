"""Webhook endpoints and the deliveries an event makes for them (api.md, "Webhooks").

An event of the catalogue becomes, in the inbox transaction of its handler, one delivery row
per matching endpoint of its workspace: a redelivered event is a duplicate in the inbox and
makes none (and the unique (endpoint, event) pair would refuse one anyway). The rows are sent
by the scheduler (``webhook_delivery``), never here.
"""

import base64
import json
import logging
import secrets
from datetime import datetime

import requests
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from pactra_contracts.api import WEBHOOK_EVENT_TYPES
from pactra_contracts.events import Event, WorkspaceCreated
from pactra_contracts.ids import new_id
from pactra_contracts.times import format_time, utcnow
from pactra_platform.db import session_factory
from pactra_platform.erasure import ColumnCipher
from pactra_platform.internal_client import ServiceClient
from pactra_platform.messaging import notify_on_commit
from pactra_platform.settings import Settings
from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork

from .models import WebhookDelivery, WebhookEndpoint, WorkspaceOwner
from .settings import get_notify_settings

log = logging.getLogger(__name__)

# What an endpoint may subscribe to; ``ping`` is what the test route sends.
EVENT_TYPES = WEBHOOK_EVENT_TYPES
BUS_TYPES = tuple(t for t in EVENT_TYPES if t != "ping")
SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix (Standard Webhooks), not a secret
SECRET_PURPOSE = "webhook-secrets"  # noqa: S105 - the key derivation's label, not a secret
# Committing a new due delivery wakes the scheduler of every notify worker at once.
WEBHOOK_CHANNEL = "pactra_webhooks"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def secret_cipher(settings: Settings) -> ColumnCipher:
    """Endpoint secrets are sealed under their workspace's data key (crypto-shredded with the
    workspace), bound to the endpoint id; secrets sealed under the master key before
    per-workspace keys still open (``pactra-dev rewrap`` moves them)."""
    return ColumnCipher(settings.master_key, SECRET_PURPOSE, session_factory(settings, "notify"))


def seal_secret(settings: Settings, workspace_id: str, endpoint_id: str, secret: str) -> bytes:
    return secret_cipher(settings).seal(workspace_id, secret.encode(), endpoint_id.encode())


def open_secret(settings: Settings, endpoint_id: str, sealed: bytes) -> str:
    return secret_cipher(settings).open(bytes(sealed), endpoint_id.encode()).decode()


def signing_secrets(settings: Settings, endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The current secret, and the previous one while its overlap lasts."""
    found = [open_secret(settings, endpoint.id, endpoint.secret_sealed)]
    if (endpoint.previous_secret_sealed is not None and endpoint.previous_secret_expires_at
            and endpoint.previous_secret_expires_at > now):
        found.append(open_secret(settings, endpoint.id, endpoint.previous_secret_sealed))
    return found


def endpoint_json(endpoint: WebhookEndpoint) -> dict:
    return {
        "id": endpoint.id, "url": endpoint.url, "description": endpoint.description,
        "events": list(endpoint.events), "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason,
        "created_at": format_time(endpoint.created_at),
        "updated_at": format_time(endpoint.updated_at),
    }


def subscribed(endpoint: WebhookEndpoint, event_type: str) -> bool:
    return "*" in endpoint.events or event_type in endpoint.events


def body_json(event_type: str, occurred_at: datetime, data: dict, livemode: bool = True) -> str:
    """``livemode`` false: the event is about a test-mode object (api.md, "Test mode")."""
    return json.dumps({"type": event_type, "timestamp": format_time(occurred_at),
                       "livemode": livemode, "data": data},
                      separators=(",", ":"), ensure_ascii=False)


def add_deliveries(session: Session, endpoints: list[WebhookEndpoint], event_id: str,
                   event_type: str, body: str) -> int:
    """One due delivery per endpoint (none twice for an event); wakes the schedulers."""
    if not endpoints:
        return 0
    now = utcnow()
    rows = [{"id": new_id("whd"), "endpoint_id": e.id, "workspace_id": e.workspace_id,
             "event_id": event_id, "type": event_type, "body": body, "status": "pending",
             "tries": 0, "next_attempt_at": now, "created_at": now} for e in endpoints]
    inserted = session.execute(insert(WebhookDelivery).values(rows).on_conflict_do_nothing(
        constraint="uq_webhook_deliveries_endpoint_event").returning(WebhookDelivery.id)).all()
    notify_on_commit(session, WEBHOOK_CHANNEL)
    return len(inserted)


# --- the public object of each event's resource --------------------------------------------

_AGREEMENT_STATUS = {"agreement.sent": "sent", "agreement.completed": "completed",
                     "agreement.declined": "declined", "agreement.voided": "voided",
                     "agreement.expired": "expired"}
_SIGNER_STATUS = {"signer.viewed": "viewed", "signer.signed": "signed",
                  "signer.declined": "declined"}
# Notify's own reports of an email that came back: the signer's status is unchanged by them;
# its ``delivery_status`` says it.
_SIGNER_DELIVERY = ("signer.bounced", "signer.complained")


class SigningUnavailable(RuntimeError):
    """Signing did not answer for the agreement: the event is retried (then dead-lettered)."""


def fetch_agreement(settings: Settings, workspace_id: str, agreement_id: str) -> dict | None:
    """The agreement object as the API returns it, asked of signing with notify's own signed
    identity and the event's workspace (so only that workspace's agreement can come back)."""
    client = ServiceClient(settings, "notify", "signing", timeout=10.0)
    try:
        response = client.request("GET", f"/v1/agreements/{agreement_id}", workspace_id=workspace_id)
    except requests.RequestException as exc:
        raise SigningUnavailable(f"signing unreachable: {type(exc).__name__}") from None
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise SigningUnavailable(f"signing answered {response.status_code}")
    return response.json()


def public_data(event: Event, fetch=fetch_agreement) -> dict:
    """``data`` of a webhook body: the resource as the API shows it, its ``status`` and, for
    an agreement or a signer, ``sequence`` (the agreement's version). Built from the event's
    own fields and the public agreement object only: the event's signature images, sealed
    links and document text never reach it."""
    data = event.data
    kind = event.type
    if kind == "document.uploaded":
        return {"id": data["document_id"], "filename": data["filename"], "size": data["size"],
                "sha256": data["sha256"], "pages": data["pages"],
                "created_at": format_time(event.occurred_at), "status": "uploaded"}
    if kind == "document.deleted":
        return {"id": data["document_id"], "status": "deleted"}
    if kind == "analysis.completed":
        # Not the analysis itself: its clauses quote the document's text.
        return {"document_id": data["document_id"], "status": data["status"],
                "engine": data["engine"]}
    if kind == "receipt.issued":
        return {"agreement_id": data["agreement_id"], "receipt_id": data["receipt_id"],
                "status": "issued", "outcome": data["outcome"]}
    if kind == "receipt.failed":
        return {"agreement_id": data["agreement_id"], "receipt_id": None, "status": "failed",
                "code": data.get("code"), "will_retry": data.get("will_retry")}
    agreement_id = data["agreement_id"]
    sequence = data.get("agreement_version")
    agreement = fetch(get_notify_settings(), event.workspace_id or "", agreement_id)
    if kind in _SIGNER_STATUS or kind in _SIGNER_DELIVERY:
        signer_id = data["signer_id"]
        signer = next((s for s in (agreement or {}).get("signers", []) if s.get("id") == signer_id),
                      None)
        if signer is None:  # the agreement was deleted meanwhile
            signer = {"id": signer_id, "status": _SIGNER_STATUS.get(kind)}
        if kind in _SIGNER_DELIVERY:
            # Signing may not have recorded it yet when the agreement was fetched. These events
            # are notify's, not the agreement's: they carry no agreement version (sequence null).
            signer = {**signer, "delivery_status": data["delivery_status"],
                      "email_kind": data["email_kind"]}
        return {**signer, "agreement_id": agreement_id, "sequence": sequence}
    if agreement is None:
        agreement = {"id": agreement_id, "status": _AGREEMENT_STATUS[kind]}
    return {**agreement, "sequence": sequence}


# --- event handlers ---------------------------------------------------------------------------


def on_webhook_event(event: Event, uow: SqlAlchemyUnitOfWork) -> None:
    """A catalogue event becomes a delivery for each enabled endpoint of its workspace that
    subscribed to its type."""
    if not event.workspace_id:
        return
    endpoints = [e for e in uow.session.scalars(select(WebhookEndpoint).where(
        WebhookEndpoint.workspace_id == event.workspace_id, WebhookEndpoint.enabled.is_(True)))
        if subscribed(e, event.type)]
    if not endpoints:
        return  # nobody listens: not even the agreement is fetched
    # Events before test mode carry no livemode: they were live.
    body = body_json(event.type, event.occurred_at, public_data(event),
                     livemode=event.data.get("livemode", True) is not False)
    add_deliveries(uow.session, endpoints, event.id, event.type, body)


def on_workspace_created(event: Event, uow: SqlAlchemyUnitOfWork) -> None:
    """Remember the owner: whom to tell when an endpoint of theirs is disabled."""
    data = event.payload()
    assert isinstance(data, WorkspaceCreated)
    values = {"name": data.owner.name, "email": data.owner.email.lower(), "updated_at": utcnow()}
    uow.session.execute(insert(WorkspaceOwner).values(workspace_id=data.workspace_id, **values)
                        .on_conflict_do_update(index_elements=["workspace_id"], set_=values))
