"""The nonces of signed internal calls a service has accepted, remembered while their
timestamp is still acceptable, in a store every replica of the service shares: a call
replayed at this replica or another is refused (internal_auth.py).

Redis (``SET NX EX``) when ``PACTRA_REDIS_URL`` is set; otherwise the ``internal_nonces``
table of the service's own database (``INSERT ... ON CONFLICT DO NOTHING``).
"""

import threading
import time
from typing import Protocol

from alembic.operations import Operations
from sqlalchemy import Column, DateTime, Engine, String, text
from sqlalchemy.exc import SQLAlchemyError

from .db import engine_for
from .internal_auth import MAX_SKEW_SECONDS
from .settings import Settings

# A nonce is kept until its timestamp can no longer be accepted, plus a margin for the clocks
# of the replicas and the database disagreeing a little.
KEEP_SECONDS = MAX_SKEW_SECONDS + 60
PURGE_EVERY_SECONDS = 30.0
# One statement in its own (autocommit) transaction, committed without waiting for the WAL to
# reach the disk (synchronous_commit off for this transaction only): ~0.4 ms instead of ~2 ms
# on every internal call. The row is visible to every replica at once; only a database crash
# in the following fraction of a second could forget it, reopening that nonce for the rest of
# its minute.
CLAIM = text(
    "WITH async AS (SELECT set_config('synchronous_commit', 'off', true)) "
    "INSERT INTO internal_nonces (nonce, expires_at) "
    "SELECT :nonce, to_timestamp(:expires) FROM async ON CONFLICT DO NOTHING"
)


class NonceStoreUnavailable(RuntimeError):
    """The store did not answer: the call can be neither accepted nor refused as a replay."""


class NonceStore(Protocol):
    def claim(self, calling_service: str, nonce: str, timestamp: int) -> bool:
        """True the first time a (calling service, nonce) is seen in the window, False for a replay."""


class PostgresNonces:
    def __init__(self, engine: Engine) -> None:
        # Each claim is one statement: autocommit spares the BEGIN and COMMIT round trips.
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._lock = threading.Lock()
        self._next_purge = 0.0

    def claim(self, calling_service: str, nonce: str, timestamp: int) -> bool:
        try:
            with self._engine.connect() as conn:
                inserted = conn.execute(CLAIM, {"nonce": f"{calling_service}:{nonce}",
                                                "expires": timestamp + KEEP_SECONDS}).rowcount
                if self._purge_due():
                    conn.execute(text("DELETE FROM internal_nonces WHERE expires_at < now()"))
        except SQLAlchemyError as exc:
            raise NonceStoreUnavailable("the nonce table did not answer") from exc
        return inserted == 1

    def _purge_due(self) -> bool:
        # One request in each process purges about every PURGE_EVERY_SECONDS; the table holds
        # about two minutes of calls.
        now = time.monotonic()
        with self._lock:
            if now < self._next_purge:
                return False
            self._next_purge = now + PURGE_EVERY_SECONDS
            return True


class RedisNonces:
    def __init__(self, url: str, service: str) -> None:
        import redis  # only where PACTRA_REDIS_URL is set

        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._prefix = f"pactra:nonce:{service}:"

    def claim(self, calling_service: str, nonce: str, timestamp: int) -> bool:
        import redis

        # Kept until the timestamp leaves the window (plus the margin), counted from now.
        ttl = max(1, int(timestamp + KEEP_SECONDS - time.time()))
        try:
            return bool(self._redis.set(f"{self._prefix}{calling_service}:{nonce}", b"1", nx=True, ex=ttl))
        except redis.RedisError as exc:
            raise NonceStoreUnavailable("redis did not answer") from exc


def nonce_store(settings: Settings, service: str) -> NonceStore:
    if settings.redis_url:
        return RedisNonces(settings.redis_url, service)
    return PostgresNonces(engine_for(settings.database_url_of(service)))


def create_nonce_table(op: Operations) -> None:
    """Called from each internal service's migrations: the table PostgresNonces uses."""
    op.create_table(
        "internal_nonces",
        Column("nonce", String(100), primary_key=True),
        Column("expires_at", DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_internal_nonces_expires_at", "internal_nonces", ["expires_at"])
