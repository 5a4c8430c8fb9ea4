"""RabbitMQ topology and the worker: consumers with an inbox, dead letters, the outbox relay.

Topology (events.md): one durable topic exchange ``<prefix>.events`` whose routing key is the
event type; per consuming handler a durable quorum queue ``<prefix>.<service>.<handler>.v1``
(the version lets a later release change queue arguments without PRECONDITION_FAILED); per
service a dead-letter queue ``<prefix>.<service>.dead-letters``. Events nobody is bound to
yet land, through the exchange's alternate exchange, in ``<prefix>.unrouted`` rather than
vanishing.

Access (events.md): ``pactra-migrate`` declares all of it with PACTRA_AMQP_URL, the bootstrap
account. Each service's processes connect as its own user (``Settings.amqp_url_of``), which
:func:`broker_access` allows only to publish the types it produces, to read its own queues
and to publish to its own replay exchange; it configures nothing, so it only checks, passively,
that its topology exists.
"""

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aio_pika
import psycopg
from aio_pika.abc import AbstractChannel, ExchangeType
from faststream import AckPolicy, FastStream
from faststream.rabbit import (
    Channel,
    QueueType,
    RabbitBroker,
    RabbitExchange,
    RabbitQueue,
)
from faststream.rabbit.annotations import RabbitMessage
from faststream.specification import AsyncAPI
from sqlalchemy.orm import sessionmaker

from pactra_contracts.events import Event, MalformedEvent, parse_event, types_produced_by
from pactra_contracts.times import utcnow

from . import key_check, logs
from .db import listen_connect_args
from .messaging import OUTBOX_CHANNEL, claim_unpublished, mark_failed, purge_published
from .settings import Settings
from .storage import ensure_bucket
from .unit_of_work import SqlAlchemyUnitOfWork

log = logging.getLogger(__name__)

QUEUE_VERSION = "v1"
# Seven days: long enough for an operator to notice an unrouted event, short enough not to
# fill the disk with events nobody will ever consume.
UNROUTED_TTL_MS = 7 * 24 * 3600 * 1000


@dataclass(frozen=True)
class Periodic:
    """A housekeeping job the worker runs every ``seconds`` (in a thread; errors logged), and
    at once when a commit notifies its ``wake_on`` channel."""

    name: str
    seconds: float
    run: Callable[[], object]
    wake_on: str | None = None


@dataclass(frozen=True)
class Subscription:
    """A handler and the event types it consumes: ``handle(event, uow)``, run in a thread."""

    name: str
    event_types: tuple[str, ...]
    handle: Callable[[Event, Any], None]


class Topology:
    def __init__(self, settings: Settings, service: str) -> None:
        self.settings = settings
        self.service = service
        prefix = settings.bus_prefix
        self.exchange = f"{prefix}.events"
        self.unrouted = f"{prefix}.unrouted"
        self.dead_letters = f"{prefix}.{service}.dead-letters"
        # A direct exchange bound to each of the service's queues under the queue's name:
        # ``pactra-deadletters`` replays through it, as the service's own user, to the queue a
        # letter died in. The default exchange would do the same but reaches every queue of the
        # vhost, so no service user may publish to it.
        self.replay = f"{prefix}.{service}.replay"

    def queue_name(self, handler: str) -> str:
        return f"{self.settings.bus_prefix}.{self.service}.{handler}.{QUEUE_VERSION}"

    def queue_arguments(self) -> dict[str, Any]:
        return {
            "x-queue-type": "quorum",
            "x-delivery-limit": self.settings.delivery_limit,
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": self.dead_letters,
            # At-least-once dead-lettering (RabbitMQ 3.10+) needs reject-publish overflow;
            # with it a dead letter is not dropped if the dead-letter queue cannot take it.
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        }

    def exchange_spec(self) -> RabbitExchange:
        return RabbitExchange(
            self.exchange, type=ExchangeType.TOPIC, durable=True,
            arguments={"alternate-exchange": self.unrouted},
        )

    async def declare(self, channel: AbstractChannel, subscriptions: Sequence[Subscription]) -> None:
        """Declare everything this service needs (idempotent; also run by ``pactra-migrate``)."""
        unrouted = await channel.declare_exchange(self.unrouted, ExchangeType.FANOUT, durable=True)
        unrouted_queue = await channel.declare_queue(
            self.unrouted, durable=True,
            arguments={"x-queue-type": "quorum", "x-message-ttl": UNROUTED_TTL_MS},
        )
        await unrouted_queue.bind(unrouted)
        exchange = await channel.declare_exchange(
            self.exchange, ExchangeType.TOPIC, durable=True,
            arguments={"alternate-exchange": self.unrouted},
        )
        await channel.declare_queue(
            self.dead_letters, durable=True, arguments={"x-queue-type": "quorum"}
        )
        replay = await channel.declare_exchange(self.replay, ExchangeType.DIRECT, durable=True)
        for sub in subscriptions:
            queue = await channel.declare_queue(
                self.queue_name(sub.name), durable=True, arguments=self.queue_arguments()
            )
            for event_type in sub.event_types:
                await queue.bind(exchange, routing_key=event_type)
            await queue.bind(replay, routing_key=queue.name)

    async def check(self, channel: AbstractChannel, subscriptions: Sequence[Subscription]) -> None:
        """Passively check that what :meth:`declare` makes exists (needs no permission)."""
        await channel.declare_exchange(self.exchange, passive=True)
        await channel.declare_exchange(self.replay, passive=True)
        for name in (self.dead_letters, *(self.queue_name(sub.name) for sub in subscriptions)):
            await channel.declare_queue(name, passive=True)


async def declare_topology(settings: Settings, service: str, subs: Sequence[Subscription]) -> None:
    """Declare ``service``'s topology with the bootstrap account (PACTRA_AMQP_URL)."""
    connection = await aio_pika.connect(settings.amqp_url)
    try:
        channel = await connection.channel()
        await Topology(settings, service).declare(channel, subs)
    finally:
        await connection.close()


async def check_topology(settings: Settings, service: str, subs: Sequence[Subscription]) -> None:
    """As the service's own user: fail clearly when ``pactra-migrate`` has not declared it."""
    connection = await aio_pika.connect(settings.amqp_url_of(service))
    try:
        channel = await connection.channel()
        try:
            await Topology(settings, service).check(channel, subs)
        except aio_pika.exceptions.ChannelNotFoundEntity as exc:
            raise RuntimeError(f"{service}'s exchanges and queues are missing ({exc}); "
                               f"run `pactra-migrate {service}`") from None
    finally:
        await connection.close()


@dataclass(frozen=True)
class BrokerAccess:
    """What a service's RabbitMQ user may do in the vhost: ``rabbitmqctl set_permissions``
    (configure, write, read: regular expressions over exchange and queue names) and
    ``set_topic_permissions`` on the events exchange (write, read: over routing keys)."""

    user: str
    configure: str
    write: str
    read: str
    topic_exchange: str
    topic_write: str
    topic_read: str


def broker_access(settings: Settings, service: str) -> BrokerAccess:
    """Least privilege for ``service``'s processes, which at run time only passively declare,
    consume their own queues (a failure is requeued; the broker itself dead-letters after the
    delivery limit), publish what they produce and replay their own dead letters."""
    topology = Topology(settings, service)
    own = re.escape(f"{settings.bus_prefix}.{service}.")
    produced = "|".join(re.escape(t) for t in types_produced_by(service))
    return BrokerAccess(
        user=settings.amqp_user_of(service),
        # Nothing: declaring, deleting or rebinding is pactra-migrate's, as the bootstrap user.
        configure="^$",
        write=f"^({re.escape(topology.exchange)}|{re.escape(topology.replay)})$",
        # Its handler queues and its dead-letter queue.
        read=f"^{own}",
        topic_exchange=topology.exchange,
        topic_write=f"^({produced})$",
        # Topic read is checked when binding, which these users never do.
        topic_read="^$",
    )


def retry_delay(delivery_count: int) -> float:
    """Back-off before a failed message goes back to the queue: 0.2 s, 0.4 s ... at most 5 s."""
    return min(0.2 * 2**delivery_count, 5.0)


def run_handler(sub: Subscription, event: Event, make_uow: Callable[[], SqlAlchemyUnitOfWork]) -> bool:
    """Run ``sub`` for ``event`` exactly once per event id; False when it was a duplicate."""
    with make_uow() as uow:
        if not uow.claim(event, sub.name):
            return False
        sub.handle(event, uow)
        uow.commit()
    return True


class Wakeups:
    """LISTENs on one channel of the service's database (``messaging.notify_on_commit``): a
    commit that made work wakes the loop that does it, instead of the loop finding the work
    on its next poll. The loops still poll, slowly, as the safety net: a notification sent
    while this connection was down is lost.
    """

    def __init__(self, database_url: str, channel: str) -> None:
        self._connect_args = listen_connect_args(database_url)
        self._channel = channel
        self._connection: psycopg.AsyncConnection | None = None

    async def wait(self, seconds: float, stopping: asyncio.Event) -> bool:
        """Return on a notification (True), after ``seconds`` or when ``stopping`` is set."""
        listening = asyncio.ensure_future(self._next_notification(seconds))
        stopped = asyncio.ensure_future(stopping.wait())
        try:
            await asyncio.wait({listening, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (listening, stopped):
                task.cancel()
            await asyncio.gather(listening, stopped, return_exceptions=True)
        if stopping.is_set():
            await self.close()
            return False
        return listening.done() and not listening.cancelled() and listening.result() is True

    async def _next_notification(self, seconds: float) -> bool:
        try:
            if self._connection is None or self._connection.closed:
                self._connection = await psycopg.AsyncConnection.connect(**self._connect_args)
                # A channel is an identifier, not a parameter; ours are constants.
                await self._connection.execute(f"LISTEN {self._channel}")
            # Run each generator to its end (never break out of it): an unfinished one would
            # keep holding the connection's lock.
            notified = False
            async for _ in self._connection.notifies(timeout=seconds, stop_after=1):
                notified = True
            # Commits that landed meanwhile are covered by the batch about to run.
            async for _ in self._connection.notifies(timeout=0):
                pass
            return notified
        except Exception:  # whatever breaks here, the loop must go on (by polling)
            log.warning("notifications unavailable; polling", extra={"channel": self._channel},
                        exc_info=True)
            await self.close()
            await asyncio.sleep(seconds)
            return False

    async def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(psycopg.Error):
                await self._connection.close()
            self._connection = None


class OutboxRelay:
    """Publishes the outbox: persistent messages, publisher confirms, rows marked after confirm.

    The batch runs in a worker thread inside one transaction holding row locks (so a second
    relay replica skips those rows); each publish is awaited on the event loop. A crash after
    the broker confirmed but before the commit republishes the same event id, which inboxes
    discard: at-least-once, never under a new id. Between batches it sleeps until a commit
    notifies it (``wakeups``) or ``poll_seconds`` pass.
    """

    def __init__(self, broker: RabbitBroker, topology: Topology, sessions: sessionmaker,
                 poll_seconds: float, batch: int = 100, wakeups: Wakeups | None = None) -> None:
        self.broker = broker
        self.topology = topology
        self.sessions = sessions
        self.poll_seconds = poll_seconds
        self.batch = batch
        self.wakeups = wakeups
        self._stopping = asyncio.Event()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task:
            await self._task

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            try:
                published = await asyncio.to_thread(self.publish_batch, loop)
            except Exception:  # the relay must outlive any one bad round
                log.exception("outbox relay round failed")
                published = 0
            if published < self.batch:
                if self.wakeups is None:
                    await _pause(self._stopping, self.poll_seconds)
                else:
                    await self.wakeups.wait(self.poll_seconds, self._stopping)
        if self.wakeups is not None:
            await self.wakeups.close()

    def publish_batch(self, loop: asyncio.AbstractEventLoop) -> int:
        with self.sessions() as session:
            rows = claim_unpublished(session, self.batch)
            if not rows:
                return 0
            # The batch's publishes are in flight together and their confirms awaited
            # together: one broker round trip for the batch, not one per event. Consumers
            # never rely on order across events (events.md), so a failed one retried later
            # may arrive after those published with it.
            outcomes = asyncio.run_coroutine_threadsafe(
                self._publish_all([row.body for row in rows]), loop).result(timeout=60)
            confirmed_at = utcnow()
            failed = []
            for row, outcome in zip(rows, outcomes, strict=True):
                if outcome is None:
                    row.published_at = confirmed_at
                else:
                    failed.append((row.id, outcome))
            session.commit()
        if failed:
            with self.sessions() as session:
                for row_id, exc in failed:
                    mark_failed(session, row_id, repr(exc))
                session.commit()
            log.warning("publish failed; will retry", extra={"event_ids": [i for i, _ in failed]})
            return 0  # a broker in trouble: wait before the next round
        return len(rows)

    async def _publish_all(self, bodies: list[dict]) -> list[BaseException | None]:
        outcomes = await asyncio.gather(*(self._publish(body) for body in bodies),
                                        return_exceptions=True)
        return [outcome if isinstance(outcome, BaseException) else None for outcome in outcomes]

    async def _publish(self, body: dict) -> None:
        event = Event.model_validate(body)
        await self.broker.publish(
            event.to_json(),
            exchange=self.topology.exchange_spec(),
            routing_key=event.type,
            persist=True,
            mandatory=True,
            message_id=event.id,
            correlation_id=event.correlation_id,
            content_type="application/json",
            message_type=event.type,
            timeout=10,
        )


# How often a worker with a relay deletes its published outbox rows older than
# ``outbox_retention_days`` (also once at start).
OUTBOX_PURGE_SECONDS = 3600.0


def purge_outbox(sessions: sessionmaker, settings: Settings, service: str) -> int:
    """The relay's housekeeping: published rows past the retention window are deleted, so
    the events they hold (signature images, field values) are not kept beyond it."""
    with sessions() as session:
        deleted, stuck = purge_published(session, timedelta(days=settings.outbox_retention_days))
    if stuck:
        log.error("outbox rows unpublished for longer than the retention window are kept: "
                  "the relay cannot publish", extra={"service": service, "rows": stuck})
    if deleted:
        log.info("published outbox rows purged", extra={"service": service, "rows": deleted})
    return deleted


def build_worker(
    settings: Settings,
    service: str,
    subscriptions: Sequence[Subscription],
    make_uow: Callable[[], SqlAlchemyUnitOfWork],
    sessions: sessionmaker,
    *,
    relay: bool = True,
    uses_storage: bool = False,
    periodic: Sequence[Periodic] = (),
    graceful_timeout: float = 20.0,
) -> FastStream:
    """The service's FastStream app: its consumers and (when it produces events) its relay."""
    logs.configure_logging(service, settings.log_level)
    topology = Topology(settings, service)
    own_user = bool(settings.amqp_password_of(service))
    broker = RabbitBroker(
        settings.amqp_url_of(service),
        graceful_timeout=graceful_timeout,
        reconnect_interval=1.0,
        # Confirms make publish() wait for the broker to take the message; a return (no
        # queue, no alternate exchange) raises instead of being silently dropped.
        default_channel=Channel(publisher_confirms=True, on_return_raises=True, prefetch_count=16),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        logger=logging.getLogger(f"pactra.{service}.bus"),
        # "Received"/"Processed" for every message is debugging detail, and formatting it
        # was a tenth of a worker's CPU; failures are still logged as errors.
        log_level=logging.DEBUG,
        description=f"Pactra {service} service events",
    )
    exchange = topology.exchange_spec()
    for sub in subscriptions:
        _subscribe(broker, topology, exchange, sub, make_uow)

    app = FastStream(
        broker,
        specification=AsyncAPI(title=f"pactra-{service}", version="1.0.0",
                               description=f"Events the {service} service consumes and publishes."),
    )
    outbox = OutboxRelay(broker, topology, sessions, settings.outbox_poll_seconds,
                         wakeups=Wakeups(settings.database_url_of(service), OUTBOX_CHANNEL))

    @app.on_startup
    async def declare() -> None:
        # At start, not at import: `make docs` imports every worker without a database.
        await asyncio.to_thread(key_check.refuse_to_start_on_mismatch, settings, service)
        if own_user:
            await check_topology(settings, service, subscriptions)
        else:  # the bootstrap account (a scratch test's worker): it may declare its own
            log.warning("no broker password for this service: connected with PACTRA_AMQP_URL's "
                        "account, which may publish any event",
                        extra={"setting": f"PACTRA_{service.upper()}_AMQP_PASSWORD"})
            await declare_topology(settings, service, subscriptions)
        if uses_storage:
            await _ensure_bucket(settings, service)

    stopping = asyncio.Event()
    jobs: list[asyncio.Task] = []

    @app.after_startup
    async def start_background() -> None:
        if relay:
            outbox.start()
        housekeeping = (Periodic("purge_outbox", OUTBOX_PURGE_SECONDS,
                                 lambda: purge_outbox(sessions, settings, service)),) if relay else ()
        jobs.extend(asyncio.create_task(_every(job, stopping, settings.database_url_of(service)),
                                        name=job.name) for job in (*periodic, *housekeeping))

    @app.on_shutdown
    async def stop_background() -> None:
        stopping.set()
        if relay:
            await outbox.stop()
        await asyncio.gather(*jobs)

    return app


async def _ensure_bucket(settings: Settings, service: str, patience: float = 120.0) -> None:
    """Create the service's bucket, waiting for an object store that is still starting."""
    deadline = asyncio.get_running_loop().time() + patience
    while True:
        try:
            await asyncio.to_thread(ensure_bucket, settings, service)
            return
        except Exception:
            if asyncio.get_running_loop().time() > deadline:
                raise
            log.warning("object store not reachable yet; retrying", extra={"service": service})
            await asyncio.sleep(1.0)


async def _every(job: Periodic, stopping: asyncio.Event, database_url: str) -> None:
    wakeups = Wakeups(database_url, job.wake_on) if job.wake_on else None
    try:
        while not stopping.is_set():
            try:
                await asyncio.to_thread(job.run)
            except Exception:
                log.exception("periodic job failed", extra={"job": job.name})
            if wakeups is None:
                await _pause(stopping, job.seconds)
            else:
                await wakeups.wait(job.seconds, stopping)
    finally:
        if wakeups is not None:
            await wakeups.close()


async def _pause(stopping: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds``, or less if ``stopping`` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)


def _subscribe(broker: RabbitBroker, topology: Topology, exchange: RabbitExchange,
               sub: Subscription, make_uow: Callable[[], SqlAlchemyUnitOfWork]) -> None:
    queue = RabbitQueue(
        topology.queue_name(sub.name),
        queue_type=QueueType.QUORUM,
        durable=True,
        arguments=topology.queue_arguments(),
        routing_key=sub.event_types[0],
        # Passive: the queue and its bindings are declared before the broker starts (migrate,
        # or the startup hook above); the service's user may not declare or bind.
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
            handled = await asyncio.to_thread(run_handler, sub, event, make_uow)
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


def service_worker(service: str, subscriptions: Sequence[Subscription], *,
                   uses_storage: bool = False, periodic: Sequence[Periodic] = (),
                   relay: bool = True) -> FastStream:
    """The worker of a service whose handlers need only the plain unit of work."""
    from .db import session_factory
    from .settings import get_settings

    settings = get_settings()
    sessions = session_factory(settings, service)
    return build_worker(settings, service, subscriptions, lambda: SqlAlchemyUnitOfWork(sessions),
                        sessions, uses_storage=uses_storage, periodic=periodic, relay=relay)
