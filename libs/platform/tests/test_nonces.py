"""The nonce stores, against a real PostgreSQL database and (when one answers) Redis."""

import secrets
import time
from collections.abc import Iterator

import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import text

from pactra_platform.db import drop_database, engine_for, ensure_database
from pactra_platform.nonces import KEEP_SECONDS, PostgresNonces, RedisNonces, create_nonce_table
from pactra_platform.settings import Settings


@pytest.fixture(scope="module")
def settings() -> Iterator[Settings]:
    settings = Settings(db_prefix=f"pactra_n{secrets.token_hex(4)}_")
    ensure_database(settings, "documents")
    with engine_for(settings.database_url_of("documents")).begin() as conn:
        create_nonce_table(Operations(MigrationContext.configure(conn)))
    try:
        yield settings
    finally:
        drop_database(settings, "documents")


def test_postgres_nonces_are_claimed_once_across_replicas(settings):
    engine = engine_for(settings.database_url_of("documents"))
    one, other = PostgresNonces(engine), PostgresNonces(engine)  # two replicas, one table
    now = int(time.time())
    assert one.claim("gateway", "n" * 22, now)
    assert not other.claim("gateway", "n" * 22, now)
    assert not one.claim("gateway", "n" * 22, now)
    # The same nonce from another caller is another call.
    assert other.claim("signing", "n" * 22, now)


def test_postgres_purges_only_nonces_past_their_window(settings):
    engine = engine_for(settings.database_url_of("documents"))
    store = PostgresNonces(engine)
    old = int(time.time()) - KEEP_SECONDS - 5
    store.claim("gateway", "old-nonce-0123456789", old)
    store._next_purge = 0.0  # the next claim purges
    assert store.claim("gateway", "new-nonce-0123456789", int(time.time()))
    with engine.connect() as conn:
        left = {row[0] for row in conn.execute(text("SELECT nonce FROM internal_nonces"))}
    assert "gateway:old-nonce-0123456789" not in left
    assert "gateway:new-nonce-0123456789" in left


def test_redis_nonces_are_claimed_once_and_expire_with_the_window():
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    service = f"test-{secrets.token_hex(4)}"
    one, other = RedisNonces(url, service), RedisNonces(url, service)
    nonce = secrets.token_urlsafe(16)
    now = int(time.time())
    assert one.claim("gateway", nonce, now)
    assert not other.claim("gateway", nonce, now)
    ttl = redis.Redis.from_url(url).ttl(f"pactra:nonce:{service}:gateway:{nonce}")
    assert 0 < ttl <= KEEP_SECONDS
