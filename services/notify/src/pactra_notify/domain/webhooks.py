"""Webhook endpoints and their deliveries (api.md, "Webhooks"): what an endpoint subscribes
to, how many a workspace may have, how a secret is rotated, what a webhook body holds, and
what each attempt's answer means for the delivery (retry when, give up) and its endpoint
(disabled when)."""

import base64
import json
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pactra_contracts.api import WEBHOOK_EVENT_TYPES
from pactra_contracts.times import format_time

from .errors import DeliveryInFlight, EndpointLimitReached

# What an endpoint may subscribe to; ``ping`` is what the test route sends.
EVENT_TYPES = WEBHOOK_EVENT_TYPES
BUS_TYPES = tuple(t for t in EVENT_TYPES if t != "ping")
SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix (Standard Webhooks), not a secret
GONE = "the endpoint answered 410 Gone"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def normalized_events(events: Sequence[str]) -> list[str]:
    """Each type once, in the order given; ``*`` (everything) stands alone."""
    unique = list(dict.fromkeys(events))
    return ["*"] if "*" in unique else unique


def check_room(count: int, limit: int) -> None:
    """A workspace with ``count`` endpoints may add one more only below ``limit``."""
    if count >= limit:
        raise EndpointLimitReached(limit)


@dataclass
class Endpoint:
    """A workspace's webhook endpoint. Its secrets are kept sealed (the service seals them);
    after a rotation the previous one keeps signing beside the new one until it expires."""

    id: str
    workspace_id: str
    url: str
    description: str | None
    events: list[str]
    secret_sealed: bytes
    created_at: datetime
    updated_at: datetime
    enabled: bool = True
    # Why Pactra disabled it (410, failing for days); None when enabled or disabled by the owner.
    disabled_reason: str | None = None
    previous_secret_sealed: bytes | None = None
    previous_secret_expires_at: datetime | None = None
    # The first failure since the last success: long enough of it disables the endpoint.
    failing_since: datetime | None = None

    def subscribes_to(self, event_type: str) -> bool:
        return "*" in self.events or event_type in self.events

    def set_enabled(self, enabled: bool) -> None:
        """The owner's choice; enabling again is a fresh start of the failure clock."""
        if enabled and not self.enabled:
            self.failing_since = None
        self.enabled = enabled
        self.disabled_reason = None

    def rotate(self, sealed: bytes, now: datetime, overlap: timedelta) -> None:
        """The secret being replaced keeps signing beside the new one for ``overlap``, so
        receivers can switch without dropping a delivery (rotating again within the overlap
        ends the oldest)."""
        self.previous_secret_sealed = self.secret_sealed
        self.previous_secret_expires_at = now + overlap
        self.secret_sealed = sealed
        self.updated_at = now

    def signing_secrets_sealed(self, now: datetime) -> list[bytes]:
        """The current secret, and the previous one while its overlap lasts."""
        found = [self.secret_sealed]
        if (self.previous_secret_sealed is not None and self.previous_secret_expires_at
                and self.previous_secret_expires_at > now):
            found.append(self.previous_secret_sealed)
        return found


@dataclass
class Delivery:
    """One event for one endpoint, as the delivery log's actions see it."""

    id: str
    endpoint_id: str
    event_id: str
    status: str
    tries: int = 0
    next_attempt_at: datetime | None = None
    lease_until: datetime | None = None

    def replay(self, now: datetime) -> None:
        """The same event (same ``webhook-id`` and body) goes out again, as a new run of the
        retry schedule; its earlier attempts stay in the log."""
        if self.lease_until is not None and self.lease_until > now:
            raise DeliveryInFlight()
        self.status, self.tries = "pending", 0
        self.next_attempt_at, self.lease_until = now, None


# --- what an attempt's answer means -----------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """What follows one attempt: the delivery's new state and, for its endpoint, whether it
    is failing since when, and why it is disabled now (None: it is not)."""

    status: str  # delivered | failed (retried at next_attempt_at) | gave_up
    next_attempt_at: datetime | None
    failing_since: datetime | None
    disable_reason: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status == "delivered"


@dataclass(frozen=True)
class RetrySchedule:
    """Seconds before each retry (after the 1st, 2nd ... failed attempt); the number of retries
    is its length. The endpoint is disabled once it has failed without a success for
    ``disable_after``."""

    delays: Sequence[float]
    disable_after: timedelta = field(default=timedelta(days=5))

    def exhausted_before(self, tries: int) -> bool:
        """A delivery claimed after ``tries`` attempts: its last was interrupted and was the
        schedule's last, so it gives up rather than trying once more."""
        return tries > len(self.delays)

    def judge(self, *, tries: int, status_code: int | None, retry_after: float | None,
              now: datetime, endpoint_enabled: bool, failing_since: datetime | None) -> Verdict:
        """``tries`` counts this attempt; ``retry_after`` is the receiver's (429, 503)."""
        if status_code is not None and 200 <= status_code < 300:
            return Verdict("delivered", None, None)
        if status_code == 410:
            # Gone for good: the endpoint is disabled at once (an owner may enable it again).
            return Verdict("gave_up", None, failing_since, GONE if endpoint_enabled else None)
        if tries > len(self.delays):
            status, next_at = "gave_up", None
        else:
            delay = self.delays[tries - 1] if retry_after is None else retry_after
            status, next_at = "failed", now + timedelta(seconds=delay)
        since = failing_since or now
        failing = now - since
        reason = None
        if endpoint_enabled and failing >= self.disable_after:
            reason = f"every delivery failed for {failing.total_seconds() / 86400:.1f} days"
        return Verdict(status, next_at, since, reason)


# --- the body of a webhook --------------------------------------------------------------------


def body_json(event_type: str, occurred_at: datetime, data: Mapping[str, Any],
              livemode: bool = True) -> str:
    """``livemode`` false: the event is about a test-mode object (api.md, "Test mode")."""
    return json.dumps({"type": event_type, "timestamp": format_time(occurred_at),
                       "livemode": livemode, "data": data},
                      separators=(",", ":"), ensure_ascii=False)


_AGREEMENT_STATUS = {"agreement.sent": "sent", "agreement.completed": "completed",
                     "agreement.declined": "declined", "agreement.voided": "voided",
                     "agreement.expired": "expired"}
_SIGNER_STATUS = {"signer.viewed": "viewed", "signer.signed": "signed",
                  "signer.declined": "declined"}
# Notify's own reports of an email that came back: the signer's status is unchanged by them;
# its ``delivery_status`` says it.
_SIGNER_DELIVERY = ("signer.bounced", "signer.complained")

Agreement = Mapping[str, Any]


def public_data(event_type: str, data: Mapping[str, Any], occurred_at: datetime,
                agreement_of: Callable[[str], Agreement | None]) -> dict[str, Any]:
    """``data`` of a webhook body: the resource as the API shows it, its ``status`` and, for
    an agreement or a signer, ``sequence`` (the agreement's version). Built from the event's
    own fields and the public agreement object (``agreement_of(id)``, asked only when needed)
    only: the event's signature images, sealed links and document text never reach it."""
    kind = event_type
    if kind == "document.uploaded":
        return {"id": data["document_id"], "filename": data["filename"], "size": data["size"],
                "sha256": data["sha256"], "pages": data["pages"],
                "created_at": format_time(occurred_at), "status": "uploaded"}
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
    agreement = agreement_of(agreement_id)
    if kind in _SIGNER_STATUS or kind in _SIGNER_DELIVERY:
        signer_id = data["signer_id"]
        signer = next((dict(s) for s in (agreement or {}).get("signers", [])
                       if s.get("id") == signer_id), None)
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
