"""Sending each email once per event and recipient, and telling the bus it left.

The ledger (``uow.ledger``) commits on its own: a ``pending`` row before sending, ``sent``
right after, so a retried event skips recipients already ``sent`` (see ``EmailLedger``).
"""

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pactra_contracts.events import Event, NotificationSent, UsageRecorded, make_event
from pactra_contracts.times import utcnow

from ..domain import test_mode
from ..domain.emails import Email
from .ports import EmailBackend, PermanentEmailError
from .unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outgoing:
    """One email to send; ``compose`` runs only if it still has to be sent."""

    recipient: str
    kind: str
    compose: Callable[[], Email]
    # The signer it is for (None: the sender): a bounce reported later is shown on this signer.
    signer_id: str | None = None


def deliver(event: Event[Any], uow: UnitOfWork, backend: EmailBackend, outgoing: Sequence[Outgoing], *,
            agreement_id: str | None, livemode: bool = True) -> None:
    """Send what has not been sent for ``event``; publish ``notification.sent`` for each.
    ``livemode`` false (a test-mode agreement): only to the workspace's verified addresses;
    every other recipient's row is marked ``suppressed`` and nothing is sent to it."""
    owner = None if livemode or not event.workspace_id else uow.owners.get(event.workspace_id)
    for item in outgoing:
        status = uow.ledger.begin(event.id, event.workspace_id, item.recipient, item.kind,
                                  agreement_id, item.signer_id)
        if status in ("failed", "suppressed"):
            continue
        if not test_mode.may_receive(item.recipient, livemode=livemode, owner=owner):
            log.info("test-mode email not sent: the recipient is not a verified address of the "
                     "workspace", extra={"event_id": event.id, "kind": item.kind})
            uow.ledger.suppressed(event.id, item.recipient, test_mode.SUPPRESSED_REASON)
            continue
        if status != "sent":
            try:
                provider_id = backend.send(item.compose(),
                                           idempotency_key=f"{event.id}/{item.recipient}")
            except PermanentEmailError as exc:
                log.error("email refused for good", extra={
                    "event_id": event.id, "kind": item.kind, "error": str(exc)[:500]})
                uow.ledger.failed(event.id, item.recipient, str(exc))
                continue
            uow.ledger.sent(event.id, item.recipient, provider_id, utcnow())
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
            # counted apart, livemode false, and free), once per email: the source id is the
            # email's own (event, recipient: hashed, no address leaves for the gateway's
            # counters), so a retried handler, which publishes again, is counted once.
            uow.publish(make_event(
                "usage.recorded",
                UsageRecorded(workspace_id=event.workspace_id, metric="emails_sent", quantity=1,
                              livemode=livemode,
                              source_event_id="email:" + event.id + "/" + hashlib.sha256(
                                  item.recipient.encode()).hexdigest()[:24]),
                producer="notify", workspace_id=event.workspace_id,
                correlation_id=event.correlation_id, causation_id=event.id,
            ))
