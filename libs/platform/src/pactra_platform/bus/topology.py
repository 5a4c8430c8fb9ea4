"""RabbitMQ topology: the events exchange, each handler's queue, dead letters, and who may
touch what.

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
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aio_pika
import aio_pika.exceptions
from aio_pika.abc import AbstractChannel, AbstractConnection, ExchangeType
from faststream.rabbit import RabbitExchange

from pactra_contracts.events import types_produced_by

from ..settings import Settings

if TYPE_CHECKING:  # only the handlers' names and event types are read here
    from .consumer import Subscription

log = logging.getLogger(__name__)

QUEUE_VERSION = "v1"
# Seven days: long enough for an operator to notice an unrouted event, short enough not to
# fill the disk with events nobody will ever consume.
UNROUTED_TTL_MS = 7 * 24 * 3600 * 1000


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

    async def declare(self, channel: AbstractChannel, subscriptions: "Sequence[Subscription]") -> None:
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

    async def check(self, channel: AbstractChannel, subscriptions: "Sequence[Subscription]") -> None:
        """Passively check that what :meth:`declare` makes exists (needs no permission)."""
        await channel.declare_exchange(self.exchange, passive=True)
        await channel.declare_exchange(self.replay, passive=True)
        for name in (self.dead_letters, *(self.queue_name(sub.name) for sub in subscriptions)):
            await channel.declare_queue(name, passive=True)


async def declare_topology(settings: Settings, service: str, subs: "Sequence[Subscription]") -> None:
    """Declare ``service``'s topology with the bootstrap account (PACTRA_AMQP_URL)."""
    connection = await _connect(settings.amqp_url)
    try:
        channel = await connection.channel()
        await Topology(settings, service).declare(channel, subs)
    finally:
        await connection.close()


async def check_topology(settings: Settings, service: str, subs: "Sequence[Subscription]") -> None:
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


async def _connect(url: str, patience: float = 60.0) -> AbstractConnection:
    """The broker, waited for a while: a migration started as the broker reports healthy can
    still miss its name for a moment (podman's DNS answered "Name or service not known" to a
    migration of `make test-deploy` whose broker was healthy). Refused credentials are not
    waited out: they will not change."""
    loop = asyncio.get_running_loop()
    deadline, delay = loop.time() + patience, 0.5
    while True:
        try:
            return await aio_pika.connect(url)
        except aio_pika.exceptions.ProbableAuthenticationError:
            raise
        except OSError as exc:  # aio_pika's AMQPConnectionError is one
            if loop.time() + delay > deadline:
                raise
            log.warning("broker not reachable yet; retrying", extra={"error": str(exc)[:200]})
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
