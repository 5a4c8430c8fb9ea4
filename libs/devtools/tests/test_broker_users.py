"""Each service's own RabbitMQ user, against the real broker: it publishes only the event types
it produces (anything else is refused by the broker, channel-level ACCESS_REFUSED), reads only
its own queues, configures nothing, and can still list and replay its own dead letters."""

import asyncio
from collections.abc import Iterator

import aio_pika
import pytest
from aiormq.exceptions import ChannelAccessRefused  # what aio-pika raises for a 403

from pactra_contracts.events import (
    ReceiptIssued,
    Recipient,
    make_event,
    types_produced_by,
)
from pactra_contracts.ids import new_id
from pactra_devtools import broker_users
from pactra_devtools.stack import Stack
from pactra_platform.bus import Topology
from pactra_platform.deadletters import list_dead_letters, replay_dead_letters
from pactra_platform.settings import SERVICES, Settings


@pytest.fixture(scope="module")
def bus_stack() -> Iterator[Stack]:
    """A stack's users, vhost and topology (pactra-migrate ran); no process runs, so messages
    stay in the queues for the tests to look at."""
    created = Stack.create()
    users = {created.settings.amqp_user_of(service) for service in SERVICES}
    try:
        assert users <= broker_users.users()
        yield created
    finally:
        created.close()
    # Users are global to the broker: the stack must not leave its own behind.
    assert not users & broker_users.users()


def receipt_issued() -> bytes:
    return make_event("receipt.issued", ReceiptIssued(
        agreement_id=new_id("agr"), receipt_id=new_id("rcpt"), title="NDA", outcome="completed",
        sealed_sha256="a" * 64, receipt_sha256="b" * 64,
        recipients=[Recipient(name="Mallory", email="mallory@example.net", signer_id=None)],
    ), producer="receipts", workspace_id=new_id("ws")).to_json()


async def publish(url: str, exchange: str, routing_key: str, body: bytes = b"{}") -> None:
    """Publish with confirms; an ACCESS_REFUSED closes the channel and raises."""
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        target = (channel.default_exchange if exchange == "" else
                  await channel.declare_exchange(exchange, passive=True))
        await target.publish(aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                             routing_key=routing_key, timeout=10)
    finally:
        await connection.close()


async def take(url: str, queue: str) -> aio_pika.abc.AbstractIncomingMessage | None:
    """One message from ``queue`` (acknowledged), or None."""
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        message = await declared.get(fail=False, timeout=10)
        if message is not None:
            await message.ack()
        return message
    finally:
        await connection.close()


def purge(settings: Settings, queue: str) -> None:
    async def go() -> None:
        connection = await aio_pika.connect(settings.amqp_url)  # the bootstrap account
        try:
            channel = await connection.channel()
            await (await channel.declare_queue(queue, passive=True)).purge()
        finally:
            await connection.close()

    asyncio.run(go())


def test_notify_cannot_publish_a_receipt(bus_stack: Stack) -> None:
    settings = bus_stack.settings
    notify = settings.amqp_url_of("notify")
    assert settings.amqp_user_of("notify") in notify
    exchange = Topology(settings, "notify").exchange
    with pytest.raises(ChannelAccessRefused, match=r"receipt\.issued"):
        asyncio.run(publish(notify, exchange, "receipt.issued", receipt_issued()))
    # Nor straight into the queue that would email it (the default exchange reaches any queue).
    with pytest.raises(ChannelAccessRefused, match=r"amq\.default"):
        asyncio.run(publish(notify, "", Topology(settings, "notify").queue_name("on_receipt_issued"),
                            receipt_issued()))
    # Nothing reached notify's queue.
    queue = Topology(settings, "notify").queue_name("on_receipt_issued")
    assert asyncio.run(take(settings.amqp_url, queue)) is None


def test_each_service_publishes_what_it_produces(bus_stack: Stack) -> None:
    settings = bus_stack.settings
    exchange = Topology(settings, "notify").exchange
    for service in SERVICES:
        for event_type in types_produced_by(service):
            # Confirmed by the broker (raises otherwise); routed or kept in <prefix>.unrouted.
            asyncio.run(publish(settings.amqp_url_of(service), exchange, event_type))
    # A receipt reaches notify, which reads it from its own queue as its own user.
    queue = Topology(settings, "notify").queue_name("on_receipt_issued")
    purge(settings, queue)
    body = receipt_issued()
    asyncio.run(publish(settings.amqp_url_of("receipts"), exchange, "receipt.issued", body))
    got = asyncio.run(take(settings.amqp_url_of("notify"), queue))
    assert got is not None and got.body == body


def test_a_service_reads_only_its_own_queues_and_configures_nothing(bus_stack: Stack) -> None:
    settings = bus_stack.settings
    notify = settings.amqp_url_of("notify")
    signing_queue = Topology(settings, "signing").queue_name("on_workspace_created")
    with pytest.raises(ChannelAccessRefused, match=signing_queue):
        asyncio.run(take(notify, signing_queue))

    async def declare_own_queue() -> None:
        connection = await aio_pika.connect(notify)
        try:
            channel = await connection.channel()
            await channel.declare_queue(f"{settings.bus_prefix}.notify.mine", durable=True)
        finally:
            await connection.close()

    with pytest.raises(ChannelAccessRefused):
        asyncio.run(declare_own_queue())

    async def delete_exchange() -> None:
        connection = await aio_pika.connect(notify)
        try:
            channel = await connection.channel()
            await channel.exchange_delete(Topology(settings, "notify").exchange)
        finally:
            await connection.close()

    with pytest.raises(ChannelAccessRefused):
        asyncio.run(delete_exchange())


def test_dead_letters_are_listed_and_replayed_as_the_service(bus_stack: Stack) -> None:
    settings = bus_stack.settings
    topology = Topology(settings, "notify")
    queue = topology.queue_name("on_receipt_issued")
    purge(settings, queue)
    body = receipt_issued()
    asyncio.run(publish(settings.amqp_url_of("receipts"), topology.exchange, "receipt.issued",
                        body))

    async def reject_it() -> None:
        # As the worker does with a malformed message: the broker dead-letters it.
        connection = await aio_pika.connect(settings.amqp_url_of("notify"))
        try:
            channel = await connection.channel()
            declared = await channel.declare_queue(queue, passive=True)
            message = await declared.get(timeout=10)
            await message.reject(requeue=False)
        finally:
            await connection.close()

    asyncio.run(reject_it())
    [letter] = asyncio.run(list_dead_letters(settings, "notify"))
    assert (letter.queue, letter.reason, letter.body) == (queue, "rejected", body)
    assert asyncio.run(replay_dead_letters(settings, "notify")) == 1
    assert asyncio.run(list_dead_letters(settings, "notify")) == []
    got = asyncio.run(take(settings.amqp_url_of("notify"), queue))
    assert got is not None and got.body == body


def test_provision_is_repeatable_and_remove_deletes(bus_stack: Stack) -> None:
    """`make run` provisions at every start: an existing user gets the current password."""
    settings = Settings(**{**bus_stack.settings.model_dump(), "notify_amqp_password": "changed-pw"})
    broker_users.provision(settings, ("notify",))
    try:
        asyncio.run(publish(settings.amqp_url_of("notify"), Topology(settings, "notify").exchange,
                            "notification.sent"))
        with pytest.raises(aio_pika.exceptions.ProbableAuthenticationError):
            asyncio.run(publish(bus_stack.settings.amqp_url_of("notify"),
                                Topology(settings, "notify").exchange, "notification.sent"))
    finally:
        broker_users.provision(bus_stack.settings, ("notify",))
    assert broker_users.vhost_of("amqp://u:p@h:5672/") == "/"
    assert broker_users.vhost_of("amqp://u:p@h:5672") == "/"
    assert broker_users.vhost_of("amqp://u:p@h:5672/pactra-t1%2Fx") == "pactra-t1/x"
