"""The webhook scheduler: due delivery rows claimed from the database, sent in a thread pool.

Deliveries are rows, not sleeping tasks. Every notify worker runs :meth:`Dispatcher.run`
(a ``Periodic`` job, woken by new deliveries); a claim locks the endpoints with due rows
(``FOR UPDATE SKIP LOCKED``), so whatever the number of replicas each due attempt is taken by
one of them, and an endpoint never has more than ``webhooks_concurrency_per_endpoint``
requests in flight across them all. The claim commits, before any request leaves, the
attempt itself and a lease: a worker killed mid-send leaves its attempt recorded (shown as
interrupted) and the row is taken again once the lease ends, as the next attempt of the
schedule, so a crash can neither lose a delivery nor loop on it. Standard Webhooks v1
headers are made with the ``standardwebhooks`` package.
"""

import html
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks.webhooks import Webhook

from pactra_contracts.events import UsageRecorded, make_event
from pactra_contracts.times import format_time, utcnow
from pactra_platform.erasure import KeyShredded
from pactra_platform.messaging import add_to_outbox, notify_on_commit

from ..config import NotifySettings
from ..domain.emails import Email
from ..domain.webhooks import RetrySchedule
from ..service_layer.ports import EmailBackend
from .orm import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WorkspaceOwner
from .repository import WEBHOOK_CHANNEL, endpoint_of
from .webhook_http import WebhookSender
from .webhook_secrets import EndpointSecrets

log = logging.getLogger(__name__)

# A claim's lease outlasts the request's timeout by this much: the time to record the outcome.
LEASE_MARGIN_SECONDS = 60.0
KEPT_RESPONSE_CHARS = 64 * 1024
INTERRUPTED = "interrupted: the worker stopped during this attempt"

# Endpoints with due rows, locked so that two replicas never count the same endpoint's
# requests in flight at once; for each, its due rows up to what its concurrency leaves.
_CLAIM = text("""
WITH endpoints AS (
    SELECT e.id FROM webhook_endpoints e
    WHERE e.enabled AND EXISTS (
        SELECT 1 FROM webhook_deliveries d
        WHERE d.endpoint_id = e.id AND d.status IN ('pending', 'failed')
          AND d.next_attempt_at <= now() AND (d.lease_until IS NULL OR d.lease_until < now()))
    ORDER BY e.id
    LIMIT :endpoints
    FOR UPDATE OF e SKIP LOCKED
)
SELECT d.id FROM endpoints e CROSS JOIN LATERAL (
    SELECT d.id FROM webhook_deliveries d
    WHERE d.endpoint_id = e.id AND d.status IN ('pending', 'failed')
      AND d.next_attempt_at <= now() AND (d.lease_until IS NULL OR d.lease_until < now())
    ORDER BY d.next_attempt_at, d.id
    LIMIT greatest(0, :per_endpoint - (
        SELECT count(*) FROM webhook_deliveries busy
        WHERE busy.endpoint_id = e.id AND busy.lease_until >= now()))
    FOR UPDATE OF d SKIP LOCKED
) d
LIMIT :total
""")


@dataclass(frozen=True)
class Job:
    delivery_id: str
    attempt_id: int
    lease_until: datetime
    endpoint_id: str
    url: str
    event_id: str
    body: str
    secrets: tuple[str, ...]
    tries: int


class Dispatcher:
    def __init__(self, settings: NotifySettings, sessions: sessionmaker, secrets: EndpointSecrets,
                 email_backend: EmailBackend, *, sender: WebhookSender | None = None) -> None:
        self.settings = settings
        self.sessions = sessions
        self.secrets = secrets
        self.sender = sender or WebhookSender(
            allow_http=settings.webhooks_allow_http,
            allow_loopback=settings.webhooks_allow_loopback,
            timeout=settings.webhooks_timeout_seconds)
        self.schedule = RetrySchedule(settings.webhook_retry_delays(),
                                      timedelta(seconds=settings.webhooks_disable_after_seconds))
        self.email_backend = email_backend
        self.pool = ThreadPoolExecutor(settings.webhooks_threads, thread_name_prefix="webhooks")
        self._lock = threading.Lock()
        self._in_flight = 0

    # --- claiming -----------------------------------------------------------------------

    def run(self) -> int:
        """Claim what is due (as much as this process has free threads for) and hand it to
        the pool; the requests go on after this returns."""
        claimed = 0
        while True:
            with self._lock:
                free = self.settings.webhooks_threads - self._in_flight
            if free <= 0:
                return claimed
            jobs = self.claim(free)
            for job in jobs:
                with self._lock:
                    self._in_flight += 1
                self.pool.submit(self._attempt_and_release, job)
            claimed += len(jobs)
            if len(jobs) < free:
                return claimed

    def claim(self, limit: int) -> list[Job]:
        now = utcnow()
        lease_until = now + timedelta(seconds=self.settings.webhooks_timeout_seconds
                                      + LEASE_MARGIN_SECONDS)
        with self.sessions() as session:
            ids = list(session.scalars(_CLAIM, {
                "endpoints": limit, "per_endpoint": self.settings.webhooks_concurrency_per_endpoint,
                "total": limit}))
            if not ids:
                session.rollback()
                return []
            deliveries = session.scalars(select(WebhookDelivery).where(WebhookDelivery.id.in_(ids))).all()
            endpoints = {e.id: e for e in session.scalars(select(WebhookEndpoint).where(
                WebhookEndpoint.id.in_({d.endpoint_id for d in deliveries})))}
            # An attempt a killed worker left unfinished: it stays in the log, as interrupted.
            session.execute(update(WebhookAttempt).where(
                WebhookAttempt.delivery_id.in_(ids), WebhookAttempt.finished.is_(False)).values(
                finished=True, error=INTERRUPTED))
            jobs = []
            for delivery in deliveries:
                if self.schedule.exhausted_before(delivery.tries):
                    # Its last attempt was interrupted: that was the last of the schedule.
                    delivery.status, delivery.lease_until, delivery.next_attempt_at = "gave_up", None, None
                    continue
                endpoint = endpoints[delivery.endpoint_id]
                try:
                    secrets_now = tuple(self.secrets.open(endpoint.id, sealed) for sealed in
                                        endpoint_of(endpoint).signing_secrets_sealed(now))
                except KeyShredded:
                    # Its workspace's key was shredded after this claim began: the purge
                    # takes the row; nothing of a deleted workspace is sent.
                    continue
                delivery.tries += 1
                delivery.lease_until = lease_until
                attempt = WebhookAttempt(delivery_id=delivery.id, at=now, finished=False)
                session.add(attempt)
                session.flush()
                jobs.append(Job(delivery.id, attempt.id, lease_until, endpoint.id, endpoint.url,
                                delivery.event_id, delivery.body,
                                secrets_now, delivery.tries))
            session.commit()
        return jobs

    # --- one attempt ----------------------------------------------------------------------

    def _attempt_and_release(self, job: Job) -> None:
        try:
            self.attempt(job)
        except Exception:  # the pool thread must survive; the lease brings the row back
            log.exception("webhook attempt failed to complete", extra={"delivery_id": job.delivery_id})
        finally:
            with self._lock:
                self._in_flight -= 1

    def headers(self, job: Job, at: datetime) -> dict[str, str]:
        signatures = " ".join(Webhook(secret).sign(job.event_id, at, job.body)
                              for secret in job.secrets)
        return {"webhook-id": job.event_id, "webhook-timestamp": str(int(at.timestamp())),
                "webhook-signature": signatures, "Content-Type": "application/json",
                "User-Agent": "Pactra-Webhooks/1"}

    def attempt(self, job: Job) -> None:
        answer = self.sender.send(job.url, self.headers(job, utcnow()), job.body.encode())
        now = utcnow()
        disabled: WebhookEndpoint | None = None
        with self.sessions() as session:
            delivery = session.get(WebhookDelivery, job.delivery_id, with_for_update=True)
            if delivery is None or delivery.lease_until != job.lease_until:
                # Deleted meanwhile, or the lease ran out and another worker took the row.
                log.warning("webhook attempt outlived its lease", extra={"delivery_id": job.delivery_id})
                return
            endpoint = session.get(WebhookEndpoint, delivery.endpoint_id, with_for_update=True)
            session.execute(update(WebhookAttempt).where(WebhookAttempt.id == job.attempt_id).values(
                finished=True, status_code=answer.status_code, error=answer.error,
                duration_ms=answer.duration_ms,
                response_body=(answer.body or "")[:KEPT_RESPONSE_CHARS] or None))
            delivery.lease_until = None
            verdict = self.schedule.judge(
                tries=job.tries, status_code=answer.status_code, retry_after=answer.retry_after,
                now=now, endpoint_enabled=endpoint is not None and endpoint.enabled,
                failing_since=endpoint.failing_since if endpoint is not None else None)
            delivery.status, delivery.next_attempt_at = verdict.status, verdict.next_attempt_at
            if verdict.delivered:
                delivery.delivered_at = now
                self._count_usage(session, delivery, job)
            if endpoint is not None:
                endpoint.failing_since = verdict.failing_since
                if verdict.disable_reason is not None:
                    disabled = self._disable(endpoint, now, verdict.disable_reason)
            # Rows of this endpoint held back by its concurrency limit may go now.
            notify_on_commit(session, WEBHOOK_CHANNEL)
            owner = session.get(WorkspaceOwner, disabled.workspace_id) if disabled else None
            session.commit()
        log.info("webhook attempt", extra={
            "delivery_id": job.delivery_id, "endpoint_id": job.endpoint_id, "try": job.tries,
            "status_code": answer.status_code, "error": answer.error,
            "duration_ms": answer.duration_ms})
        if disabled is not None:
            self._tell_owner(disabled, owner)

    def _disable(self, endpoint: WebhookEndpoint, now: datetime, reason: str) -> WebhookEndpoint:
        endpoint.enabled = False
        endpoint.disabled_reason = reason
        endpoint.updated_at = now
        log.warning("webhook endpoint disabled", extra={"endpoint_id": endpoint.id, "reason": reason})
        return endpoint

    def _count_usage(self, session: Session, delivery: WebhookDelivery, job: Job) -> None:
        add_to_outbox(session, make_event(
            "usage.recorded",
            UsageRecorded(workspace_id=delivery.workspace_id, metric="webhook_deliveries",
                          quantity=1, source=f"{delivery.id}/{job.attempt_id}"),
            producer="notify", workspace_id=delivery.workspace_id))

    def _tell_owner(self, endpoint: WebhookEndpoint, owner: WorkspaceOwner | None) -> None:
        if owner is None:
            log.warning("webhook endpoint disabled, but its workspace's owner is not known",
                        extra={"endpoint_id": endpoint.id})
            return
        lines = [
            f"Hello {owner.name},",
            "",
            f"Pactra disabled your webhook endpoint {endpoint.id} ({endpoint.url}): "
            f"{endpoint.disabled_reason}.",
            "",
            "No more events are sent to it. Once it works again, enable it with "
            f"PATCH /v1/webhooks/{endpoint.id} {{\"enabled\": true}}; its delivery log is at "
            f"GET /v1/webhooks/{endpoint.id}/deliveries.",
        ]
        body = "\n".join(lines) + "\n"
        email = Email(kind="webhook_disabled", to=owner.email,
                      subject=f"Your webhook endpoint {endpoint.id} was disabled",
                      html="<p>" + "<br>".join(html.escape(line) for line in lines) + "</p>",
                      text=body)
        try:
            self.email_backend.send(email, idempotency_key=f"webhook-disabled/{endpoint.id}/"
                                                           f"{format_time(endpoint.updated_at)}")
        except Exception:  # the endpoint stays disabled; the log tells the operator
            log.exception("could not email the owner about a disabled webhook endpoint",
                          extra={"endpoint_id": endpoint.id})

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
