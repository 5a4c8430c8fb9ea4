"""Fixtures for the bus reliability tests: real PostgreSQL, real RabbitMQ, no mocks.

Every fixture isolates what it makes (its own database prefix, bus prefix and vhost) and
removes it afterwards, so tests can run next to a `make run` or another engineer's tests.
"""

import contextlib
import os
import secrets
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import NullPool

from pactra_devtools.stack import Stack
from pactra_platform.db import drop_database, ensure_database
from pactra_platform.messaging import InboxRecord, OutboxMessage
from pactra_platform.settings import Settings

SCRATCH_SERVICE = "signing"  # a name the dead-letter CLI accepts; the database is our own


def rabbitmqctl(*args: str, timeout: float = 120) -> str:
    return subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True,
                          text=True, timeout=timeout).stdout


class Db:
    """A tiny SQL helper on one service database (no pool, so nothing outlives the test)."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = create_engine(url, poolclass=NullPool)

    def scalar(self, sql: str, **params: object) -> object:
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def rows(self, sql: str, **params: object) -> list[tuple]:
        with self.engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql), params)]

    def close(self) -> None:
        self.engine.dispose()


@pytest.fixture
def stack() -> Iterator[Stack]:
    """A whole isolated platform with no process running yet; each test starts what it needs."""
    created = Stack.create()
    try:
        yield created
    finally:
        created.close()


@pytest.fixture
def db_of(stack: Stack) -> Iterator[Callable[[str], Db]]:
    opened: dict[str, Db] = {}

    def get(service: str) -> Db:
        if service not in opened:
            opened[service] = Db(stack.settings.database_url_of(service))
        return opened[service]

    try:
        yield get
    finally:
        for db in opened.values():
            db.close()


@dataclass
class Scratch:
    settings: Settings
    vhost: str
    service: str
    sessions: sessionmaker
    db: Db

    @property
    def env(self) -> dict[str, str]:
        """The environment for running platform commands (e.g. pactra-deadletters) on it."""
        env = dict(os.environ)
        env.update({
            "PACTRA_DB_PREFIX": self.settings.db_prefix,
            "PACTRA_BUS_PREFIX": self.settings.bus_prefix,
            "PACTRA_AMQP_URL": self.settings.amqp_url,
            "PACTRA_DELIVERY_LIMIT": str(self.settings.delivery_limit),
        })
        return env


@pytest.fixture
def scratch() -> Iterator[Scratch]:
    """Own vhost + own database with the outbox/inbox tables and a ``handled`` test table."""
    tag = f"t{secrets.token_hex(4)}"
    vhost = f"pactra-{tag}"
    amqp_base = os.environ.get("PACTRA_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
    settings = Settings(
        db_prefix=f"pactra_{tag}_", bus_prefix=f"pactra-{tag}",
        amqp_url=amqp_base.rstrip("/") + "/" + vhost, delivery_limit=3,
    )
    rabbitmqctl("add_vhost", vhost)
    try:
        rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        ensure_database(settings, SCRATCH_SERVICE)
        try:
            db = Db(settings.database_url_of(SCRATCH_SERVICE))
            try:
                from pactra_platform.db import Base
                from pactra_platform.erasure import DeletedWorkspace, WorkspaceKey

                # What every service's migrations make: the outbox, the inbox, and the
                # erasure tables the consumer checks (deleted-workspace markers).
                Base.metadata.create_all(
                    db.engine, tables=[OutboxMessage.__table__, InboxRecord.__table__,
                                       DeletedWorkspace.__table__, WorkspaceKey.__table__]
                )
                with db.engine.begin() as conn:
                    conn.execute(text(
                        "CREATE TABLE handled (id serial PRIMARY KEY, event_id text NOT NULL,"
                        " workspace_id text NOT NULL)"
                    ))
                engine = create_engine(settings.database_url_of(SCRATCH_SERVICE),
                                       pool_size=20, max_overflow=5)
                try:
                    yield Scratch(settings, vhost, SCRATCH_SERVICE,
                                  sessionmaker(bind=engine, expire_on_commit=False), db)
                finally:
                    engine.dispose()
            finally:
                db.close()
        finally:
            drop_database(settings, SCRATCH_SERVICE)
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            rabbitmqctl("delete_vhost", vhost)
