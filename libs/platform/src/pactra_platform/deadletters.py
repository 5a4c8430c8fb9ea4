"""``pactra-deadletters``: list and replay a service's dead letters.

    pactra-deadletters signing list            # what is there, and why
    pactra-deadletters signing replay          # put every dead letter back on its queue
    pactra-deadletters signing replay --id evt_...   # only that event

A dead letter is replayed to the queue it died in (read from its ``x-death`` header), not to
the exchange, so other services that already handled the event do not see it again. It runs
as the service's own broker user (PACTRA_<SERVICE>_AMQP_PASSWORD), which may read only that
service's queues and replay only through its replay exchange (``Topology.replay``).
"""

import argparse
import asyncio
import json
import sys
from dataclasses import dataclass

import aio_pika

from pactra_contracts.services import SERVICES

from .bus.topology import Topology
from .settings import Settings, get_settings


@dataclass
class DeadLetter:
    message_id: str | None
    routing_key: str | None
    queue: str | None
    reason: str | None
    count: int
    body: bytes


def _describe(message: aio_pika.abc.AbstractIncomingMessage) -> DeadLetter:
    deaths = (message.headers or {}).get("x-death") or []
    first = deaths[0] if deaths else {}
    routing_keys = first.get("routing-keys") or [message.routing_key]
    return DeadLetter(
        message_id=message.message_id,
        routing_key=str(routing_keys[0]) if routing_keys else None,
        queue=str(first.get("queue")) if first.get("queue") else None,
        reason=str(first.get("reason")) if first.get("reason") else None,
        count=int(first.get("count", 1)),
        body=message.body,
    )


async def list_dead_letters(settings: Settings, service: str) -> list[DeadLetter]:
    """Every dead letter of ``service``, left in place (read without acknowledging)."""
    connection = await aio_pika.connect(settings.amqp_url_of(service))
    try:
        channel = await connection.channel()
        # Passive: pactra-migrate declared it; the service's user may not.
        queue = await channel.declare_queue(Topology(settings, service).dead_letters, passive=True)
        letters = []
        while (message := await queue.get(no_ack=False, fail=False)) is not None:
            letters.append(_describe(message))
        # Closing the channel returns every unacknowledged message to the queue.
        await channel.close()
        return letters
    finally:
        await connection.close()


async def replay_dead_letters(settings: Settings, service: str, only_id: str | None = None) -> int:
    """Republish dead letters to their original queues; returns how many were replayed."""
    connection = await aio_pika.connect(settings.amqp_url_of(service))
    replayed = 0
    try:
        # A letter whose queue is gone is returned unroutable: raise, and keep it.
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        topology = Topology(settings, service)
        queue = await channel.declare_queue(topology.dead_letters, passive=True)
        replay = await channel.declare_exchange(topology.replay, passive=True)
        kept = []
        while (message := await queue.get(no_ack=False, fail=False)) is not None:
            letter = _describe(message)
            if (only_id and letter.message_id != only_id) or not letter.queue:
                kept.append(message)
                continue
            headers = {k: v for k, v in (message.headers or {}).items() if not k.startswith("x-")}
            try:
                await replay.publish(
                    aio_pika.Message(
                        message.body, headers=headers, message_id=message.message_id,
                        correlation_id=message.correlation_id, content_type=message.content_type,
                        type=message.type, delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    ),
                    routing_key=letter.queue, mandatory=True,
                )
            except aio_pika.exceptions.DeliveryError:
                print(f"kept {letter.message_id}: its queue {letter.queue} no longer exists",
                      file=sys.stderr)
                kept.append(message)
                continue
            # Acknowledge only after the broker confirmed the copy: a crash here duplicates
            # (inboxes absorb that) but never loses.
            await message.ack()
            replayed += 1
        for message in kept:
            await message.nack(requeue=True)
        return replayed
    finally:
        await connection.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="List and replay a service's dead letters.")
    parser.add_argument("service", choices=SERVICES)
    parser.add_argument("action", choices=["list", "replay"])
    parser.add_argument("--id", help="replay only the dead letter with this event id")
    parser.add_argument("--json", action="store_true", help="list as JSON lines")
    args = parser.parse_args(argv)
    settings = get_settings()
    if args.action == "replay":
        count = asyncio.run(replay_dead_letters(settings, args.service, args.id))
        print(f"replayed {count} dead letter(s) of {args.service}")
        return 0
    letters = asyncio.run(list_dead_letters(settings, args.service))
    for letter in letters:
        row = {"event_id": letter.message_id, "type": letter.routing_key, "queue": letter.queue,
               "reason": letter.reason, "deaths": letter.count,
               "body": letter.body[:500].decode(errors="replace")}
        print(json.dumps(row) if args.json else
              f"{letter.message_id}  {letter.routing_key}  from {letter.queue}  ({letter.reason})")
    print(f"{len(letters)} dead letter(s) in {Topology(settings, args.service).dead_letters}",
          file=sys.stderr)
    return 0
