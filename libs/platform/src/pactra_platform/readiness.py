"""Readiness checks for ``/readyz``: can this process reach what it depends on?"""

import asyncio
from collections.abc import Callable

import aio_pika

from . import db
from .settings import Settings


def database(settings: Settings, service: str) -> Callable[[], None]:
    return lambda: db.ping(settings, service)


def broker(settings: Settings, service: str) -> Callable[[], None]:
    async def connect() -> None:
        # As the service's own user: an API process needs no other broker account.
        connection = await aio_pika.connect(settings.amqp_url_of(service), timeout=3)
        await connection.close()

    return lambda: asyncio.run(connect())


def storage(settings: Settings, bucket: str) -> Callable[[], None]:
    from .storage import object_store

    def check() -> None:
        if not object_store(settings).bucket_exists(bucket):
            raise RuntimeError(f"bucket {bucket} missing")

    return check
