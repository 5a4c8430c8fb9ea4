"""Readiness checks for ``/readyz``: can this process reach what it depends on?"""

import asyncio
import importlib
from collections.abc import Callable

import aio_pika

from . import db
from .settings import Settings


def database(settings: Settings, service: str) -> Callable[[], None]:
    return lambda: db.ping(settings, service)


def broker(settings: Settings, service: str, *, consumed: bool = False) -> Callable[[], None]:
    """The broker answers the service's own user; with ``consumed``, each of the service's
    queues also has a consumer attached: the service can do its work only once its worker is
    taking events, so until then it is not ready (a worker that died shows here too)."""

    async def check() -> None:
        # As the service's own user: an API process needs no other broker account.
        connection = await aio_pika.connect(settings.amqp_url_of(service), timeout=3)
        try:
            idle = []
            for queue in queues() if consumed else ():
                channel = await connection.channel()
                # A passive declare needs no permission and tells the consumer count.
                declared = await channel.declare_queue(queue, passive=True)
                if not declared.declaration_result.consumer_count:
                    idle.append(queue)
                await channel.close()
            if idle:
                raise RuntimeError(f"no worker consumes {', '.join(idle)}")
        finally:
            await connection.close()

    def queues() -> list[str]:
        # The worker module names the service's subscriptions; imported on the first check,
        # not at the app's start (it builds the worker's broker object).
        from .bus.topology import Topology

        worker = importlib.import_module(f"pactra_{service}.entrypoints.worker")
        topology = Topology(settings, service)
        return [topology.queue_name(sub.name) for sub in getattr(worker, "SUBSCRIPTIONS", ())]

    return lambda: asyncio.run(check())


def storage(settings: Settings, bucket: str) -> Callable[[], None]:
    from .storage import object_store

    def check() -> None:
        if not object_store(settings).bucket_exists(bucket):
            raise RuntimeError(f"bucket {bucket} missing")

    return check
