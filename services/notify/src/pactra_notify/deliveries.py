"""Sending each email once per event and recipient, and telling the bus it left.

The handler runs inside the inbox transaction, which commits only after every email went
out. A crash in between would roll back any record kept in that transaction, so the ledger
commits on its own connection: a ``pending`` row before sending, ``sent`` right after. A
retried event skips recipients already ``sent``; only a crash in the instant between the
provider's answer and that second commit can still send twice.
"""

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Engine, select, update
from sqlalchemy.dialects.postgresql import insert

from pactra_contracts.events import Event, NotificationSent, UsageRecorded, make_event
from pactra_contracts.times import utcnow
from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork

from . import test_mode
from .backends import EmailBackend, PermanentEmailError, backend_for
from .emails import Email
from .models import Delivery
from .settings import get_notify_settings

log = logging.getLogger(__name__)


@lru_cache
def default_backend() -> EmailBackend:
    return backend_for(get_notify_settings())


@dataclass(frozen=True)
class Outgoing:
    """One email to send; ``compose`` runs only if it still has to be sent."""

    recipient: str
    kind: str
    compose: Callable[[], Email]
    # The signer it is for (None: the sender): a bounce reported later is shown on this signer.
    signer_id: str | None = None


class DeliveryLedger:
    """Each call is one statement on its own, committed by itself (autocommit): one round
    trip, where a transaction would take three."""

    def __init__(self, bind: Engine) -> None:
        self.bind = bind.execution_options(isolation_level="AUTOCOMMIT")

    def begin(self, event: Event, outgoing: Outgoing, agreement_id: str | None) -> str:
        """Record the delivery (once) and return its status: pending, sent or failed."""
        inserted = (
            insert(Delivery).values(
                event_id=event.id, recipient=outgoing.recipient, kind=outgoing.kind,
                agreement_id=agreement_id, workspace_id=event.workspace_id, status="pending",
                signer_id=outgoing.signer_id, created_at=utcnow(),
            ).on_conflict_do_nothing(constraint="uq_deliveries_event_recipient")
            .returning(Delivery.status).cte("inserted")
        )
        # The new row's status or, when it was there already, the stored one.
        existing = select(Delivery.status).where(
            Delivery.event_id == event.id, Delivery.recipient == outgoing.recipient)
        with self.bind.connect() as connection:
            status = connection.scalar(
                select(inserted.c.status).union_all(existing).limit(1))
            if status is None:  # a racing insert committed after this statement's snapshot
                status = connection.scalar(existing)
        return str(status)

    def statuses(self, event_id: str) -> dict[str, str]:
        with self.bind.connect() as connection:
            rows = connection.execute(select(Delivery.recipient, Delivery.status)
                                      .where(Delivery.event_id == event_id))
            return {recipient: status for recipient, status in rows}

    def finish(self, event_id: str, recipient: str, **values: object) -> None:
        with self.bind.connect() as connection:
            connection.execute(update(Delivery).where(
                Delivery.event_id == event_id, Delivery.recipient == recipient).values(**values))


def deliver(event: Event, uow: SqlAlchemyUnitOfWork, outgoing: list[Outgoing], *,
            agreement_id: str | None, backend: EmailBackend | None = None,
            livemode: bool = True) -> None:
    """Send what has not been sent for ``event``; publish ``notification.sent`` for each.
    ``livemode`` false (a test-mode agreement): only to the workspace's verified addresses;
    every other recipient's row is marked ``suppressed`` and nothing is sent to it."""
    backend = backend or default_backend()
    ledger = DeliveryLedger(uow.session.get_bind())  # type: ignore[arg-type]
    allowed = None if livemode else test_mode.allowed_recipients(uow.session, event.workspace_id)
    for item in outgoing:
        status = ledger.begin(event, item, agreement_id)
        if status in ("failed", "suppressed"):
            continue
        if allowed is not None and item.recipient.lower() not in allowed:
            log.info("test-mode email not sent: the recipient is not a verified address of the "
                     "workspace", extra={"event_id": event.id, "kind": item.kind})
            ledger.finish(event.id, item.recipient, status="suppressed",
                          error=test_mode.SUPPRESSED_REASON)
            continue
        if status != "sent":
            try:
                provider_id = backend.send(item.compose(),
                                           idempotency_key=f"{event.id}/{item.recipient}")
            except PermanentEmailError as exc:
                log.error("email refused for good", extra={
                    "event_id": event.id, "kind": item.kind, "error": str(exc)[:500]})
                ledger.finish(event.id, item.recipient, status="failed", error=str(exc)[:2000])
                continue
            ledger.finish(event.id, item.recipient, status="sent",
                          provider_message_id=provider_id[:200], sent_at=utcnow())
        # Published in the inbox transaction, also for rows an earlier attempt sent: that
        # attempt's outbox rows were rolled back with it.
        uow.publish(make_event(
            "notification.sent",
            NotificationSent(kind=item.kind, recipient=item.recipient, agreement_id=agreement_id),
            producer="notify", workspace_id=event.workspace_id,
            correlation_id=event.correlation_id, causation_id=event.id,
        ))
        if event.workspace_id:
            # Counted for the workspace's plan (billed, never refused; a test-mode email is
            # counted apart, livemode false, and free), once per email: the
            # source id is the email's own (event, recipient: hashed, no address leaves for
            # the gateway's counters), so a retried handler, which
            # publishes again, is counted once by the gateway.
            uow.publish(make_event(
                "usage.recorded",
                UsageRecorded(workspace_id=event.workspace_id, metric="emails_sent", quantity=1,
                              livemode=livemode,
                              source_event_id="email:" + event.id + "/" + hashlib.sha256(
                                  item.recipient.encode()).hexdigest()[:24]),
                producer="notify", workspace_id=event.workspace_id,
                correlation_id=event.correlation_id, causation_id=event.id,
            ))
