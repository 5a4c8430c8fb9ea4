"""Consuming events: each handler's queue subscribed, every event run through the inbox
(exactly one effect per event id), a failing handler retried with back-off until the broker
dead-letters it, a malformed message dead-lettered at once."""

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from faststream import AckPolicy
from faststream.rabbit import QueueType, RabbitBroker, RabbitExchange, RabbitQueue
from faststream.rabbit.annotations import RabbitMessage

from pactra_contracts.events import Event, MalformedEvent, parse_event

from .. import erasure, logs
from ..db import is_unavailable
from ..unit_of_work import SqlAlchemyUnitOfWork
from .topology import Topology

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Subscription:
    """A handler and the event types it consumes: ``handle(event, uow)``, run in a thread."""

    name: str
    event_types: tuple[str, ...]
    handle: Callable[[Event, Any], None]


def retry_delay(delivery_count: int) -> float:
    """Back-off before a failed message goes back to the queue: 0.2 s, 0.4 s ... at most 5 s."""
    return min(0.2 * 2**delivery_count, 5.0)


def run_handler(sub: Subscription, event: Event, make_uow: Callable[[], SqlAlchemyUnitOfWork]) -> bool:
    """Run ``sub`` for ``event`` exactly once per event id; False when it was a duplicate."""
    with make_uow() as uow:
        # A late or replayed event about a deleted workspace must not bring its data back. The
        # deletion request itself passes: purging again is harmless and re-reports the purge.
        # (Some events name their workspace only in ``data``: usage.recorded.)
        workspace_id = event.workspace_id or event.data.get("workspace_id")
        if (isinstance(workspace_id, str) and event.type not in erasure.FORGETFUL_TYPES
                and erasure.is_deleted(uow.session, workspace_id)):
            log.info("event of a deleted workspace dropped",
                     extra={"event_id": event.id, "event_type": event.type, "handler": sub.name})
            return False
        if not uow.claim(event, sub.name):
            return False
        sub.handle(event, uow)
        uow.commit()
    return True


# A database that restarts or fails over is back within seconds. Meanwhile the message is
# held (unacknowledged) and its handler run again here, rather than returned to the queue:
# a quorum queue counts each return towards the delivery limit, and an outage would then
# dead-letter healthy events as poison. Re-running is safe: the failed attempt's transaction
# did not commit, or did and the inbox makes the next one a no-op.
DATABASE_PATIENCE_SECONDS = 60.0


async def run_patiently(sub: Subscription, event: Event,
                        make_uow: Callable[[], SqlAlchemyUnitOfWork]) -> bool:
    """:func:`run_handler`, run again while the database is unavailable (up to
    DATABASE_PATIENCE_SECONDS); any other failure, or a longer outage, is raised."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DATABASE_PATIENCE_SECONDS
    delay = 0.5
    while True:
        try:
            return await asyncio.to_thread(run_handler, sub, event, make_uow)
        except Exception as exc:
            if not is_unavailable(exc) or loop.time() + delay > deadline:
                raise
            log.warning("database unavailable; the handler runs again",
                        extra={"event_id": event.id, "handler": sub.name,
                               "error": type(exc).__name__})
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


def subscribe(broker: RabbitBroker, topology: Topology, exchange: RabbitExchange,
               sub: Subscription, make_uow: Callable[[], SqlAlchemyUnitOfWork]) -> None:
    queue = RabbitQueue(
        topology.queue_name(sub.name),
        queue_type=QueueType.QUORUM,
        durable=True,
        arguments=topology.queue_arguments(),
        routing_key=sub.event_types[0],
        # Passive: the queue and its bindings are declared before the broker starts (migrate,
        # or the worker's startup hook); the service's user may not declare or bind.
        declare=False,
    )

    async def consume(message: RabbitMessage) -> None:
        try:
            event = parse_event(message.body)
        except MalformedEvent as exc:
            # Retrying cannot fix a message that does not fit the contract: dead-letter it now.
            log.error("malformed message dead-lettered", extra={"error": str(exc)[:500]})
            await message.reject(requeue=False)
            return
        token = logs.request_id.set(event.correlation_id)
        try:
            handled = await run_patiently(sub, event, make_uow)
            log.info(
                "event handled" if handled else "duplicate event ignored",
                extra={"event_id": event.id, "event_type": event.type, "handler": sub.name},
            )
        except Exception:
            deliveries = int((message.headers or {}).get("x-delivery-count", 0) or 0)
            log.exception(
                "handler failed", extra={"event_id": event.id, "handler": sub.name,
                                         "delivery_count": deliveries},
            )
            await asyncio.sleep(retry_delay(deliveries))
            raise
        finally:
            logs.request_id.reset(token)

    consume.__name__ = sub.name
    consume.__doc__ = f"Handles {', '.join(sub.event_types)}."
    broker.subscriber(
        queue, exchange, ack_policy=AckPolicy.NACK_ON_ERROR, title=topology.queue_name(sub.name)
    )(consume)
