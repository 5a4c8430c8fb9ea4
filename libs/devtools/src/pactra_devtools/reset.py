"""``pactra-dev reset`` (``make reset``): delete the local platform's data, to start afresh.

Drops this checkout's databases (``PACTRA_DB_PREFIX``), deletes its queues and exchanges
(``PACTRA_BUS_PREFIX``), its S3 store's data and buckets (``.pactra/s3``) and the development
mailbox (``.pactra/mail``). ``.pactra/secrets.env`` stays: the next ``make run`` makes new
databases under the master key it holds. The way out when a checkout's databases were made
under another master key (``key_check``).
"""

import asyncio
import shutil
import socket
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit

import aio_pika

from pactra_platform.db import drop_database
from pactra_platform.settings import SERVICES, Settings


def _listening(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


def _queues(settings: Settings) -> list[str]:
    vhost = unquote(urlsplit(settings.amqp_url).path[1:]) or "/"
    listed = subprocess.run(["rabbitmqctl", "-q", "list_queues", "-p", vhost, "--no-table-headers", "name"],
                            check=True, capture_output=True, text=True, timeout=60).stdout
    prefix = settings.bus_prefix
    return [name for name in listed.split() if name.startswith(f"{prefix}.")]


async def _delete_bus(settings: Settings, queues: list[str]) -> None:
    connection = await aio_pika.connect(settings.amqp_url, timeout=10)
    try:
        for queue in queues:
            channel = await connection.channel()
            await channel.queue_delete(queue)
            await channel.close()
        for exchange in (f"{settings.bus_prefix}.events", f"{settings.bus_prefix}.unrouted"):
            channel = await connection.channel()
            await channel.exchange_delete(exchange)
            await channel.close()
    finally:
        await connection.close()


def reset(settings: Settings, state_dir: Path, *, force: bool, ask=input) -> int:
    s3_port = int(settings.s3_endpoint.rsplit(":", 1)[1])
    if _listening("127.0.0.1", s3_port):
        print(f"Something still listens on the S3 port {s3_port}: stop `make run` (Ctrl-C) first.")
        return 1
    what = (f"the databases {settings.db_prefix}*, the queues and exchanges {settings.bus_prefix}.*, "
            f"the buckets in {state_dir / 's3'} and the mail in {state_dir / 'mail'}")
    if not force:
        answer = ask(f"This deletes {what}. Type 'reset' to go on: ")
        if answer.strip() != "reset":
            print("Nothing was deleted.")
            return 1
    for service in SERVICES:
        drop_database(settings, service)
    queues = _queues(settings)
    asyncio.run(_delete_bus(settings, queues))
    for folder in ("s3", "mail"):
        shutil.rmtree(state_dir / folder, ignore_errors=True)
    print(f"Deleted {what} ({len(queues)} queues). `make run` starts afresh.")
    return 0
