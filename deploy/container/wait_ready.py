"""Wait until the database and the broker answer, before ``pactra-container migrate`` uses them.

Compose starts the one-shot migrations once PostgreSQL and RabbitMQ report healthy, but not
every engine honours that condition (podman-compose before podman 4.6 skips it with a
warning), and a Kubernetes Job may start before its database too. So the migration checks for
itself: a PostgreSQL connection that runs ``SELECT 1``, and the broker's AMQP port accepting
connections (and, with PACTRA_RABBITMQ_MANAGEMENT_URL, its management API answering the
bootstrap user). It tries again every second for PACTRA_WAIT_SECONDS (default 180), then
exits 1 naming what never answered. Credentials are never printed.
"""

import os
import socket
import sys
import time
from collections.abc import Callable
from urllib.parse import unquote, urlsplit

import psycopg
import requests

from pactra_platform.settings import get_settings


def database_answers(url: str) -> None:
    # SQLAlchemy's URL (postgresql+psycopg://...) as libpq takes it, to the maintenance database.
    parts = urlsplit(url.replace("postgresql+psycopg://", "postgresql://", 1))
    conninfo = parts._replace(path="/postgres").geturl()
    with psycopg.connect(conninfo, connect_timeout=3) as connection:
        connection.execute("SELECT 1")


def broker_port_answers(url: str) -> None:
    parts = urlsplit(url)
    socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5672), timeout=3).close()


def management_answers(base: str, amqp_url: str) -> None:
    parts = urlsplit(amqp_url)
    auth = (unquote(parts.username or "guest"), unquote(parts.password or "guest"))
    answer = requests.get(base.rstrip("/") + "/api/overview", auth=auth, timeout=3)
    answer.raise_for_status()


def main() -> int:
    settings = get_settings()
    deadline = time.monotonic() + float(os.environ.get("PACTRA_WAIT_SECONDS", "180"))
    checks: dict[str, Callable[[], None]] = {
        "PostgreSQL (PACTRA_DATABASE_URL)": lambda: database_answers(settings.database_url),
        "RabbitMQ (PACTRA_AMQP_URL)": lambda: broker_port_answers(settings.amqp_url),
    }
    management = os.environ.get("PACTRA_RABBITMQ_MANAGEMENT_URL")
    if management:
        checks["RabbitMQ management API"] = lambda: management_answers(management, settings.amqp_url)
    for name, check in checks.items():
        while True:
            try:
                check()
                break
            except Exception as exc:  # any failure means "not yet": retried until the deadline
                if time.monotonic() > deadline:
                    # The exception's type only: a driver's message can quote the URL.
                    print(f"{name} did not answer in time ({type(exc).__name__})", file=sys.stderr)
                    return 1
                time.sleep(1)
        print(f"{name} answers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
