"""Database plumbing: one PostgreSQL database per service, SQLAlchemy 2 sessions."""

import select
import time
from datetime import datetime
from functools import lru_cache

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.orm import DeclarativeBase, sessionmaker

from .settings import Settings

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for every service's tables (each service migrates only its own)."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: DateTime(timezone=True)}


# How long opening a connection keeps trying while the server refuses or is still starting
# (a restart or a managed failover takes a few seconds): a request waits that long rather
# than failing; after it, the error stands (a 503 with Retry-After, a requeued message).
CONNECT_PATIENCE_SECONDS = 10.0


@lru_cache(maxsize=16)
def engine_for(url: str) -> Engine:
    # No pre-ping (a round trip on every checkout, a large share of a short request): the
    # checkout looks at the idle connection's socket instead, for free (_drop_if_closed).
    engine = create_engine(url, pool_size=10, max_overflow=10, pool_recycle=3600)
    event.listen(engine, "do_connect", _connect_patiently)
    event.listen(engine, "checkout", _drop_if_closed)
    return engine


def _drop_if_closed(dbapi_connection: object, record: object, proxy: object) -> None:
    """A pooled connection is idle: the server has nothing to say to it unless it is closing
    it (a restart or failover sends "terminating connection" and closes the socket). So a
    readable socket means a dead connection; it is replaced before any statement is sent,
    and, since the server went away, the rest of the pool is replaced as each is next used.
    Costs one poll() and no round trip."""
    broken = getattr(dbapi_connection, "broken", False) or getattr(dbapi_connection, "closed", False)
    if not broken:
        pgconn = getattr(dbapi_connection, "pgconn", None)  # psycopg 3; other drivers: trusted
        if pgconn is not None:
            try:
                poller = select.poll()
                poller.register(pgconn.socket, select.POLLIN | select.POLLERR | select.POLLHUP)
                broken = bool(poller.poll(0))
            except Exception:  # no socket to look at (psycopg raises its own error): dead
                broken = True
    if broken:
        raise sa_exc.InvalidatePoolError("the server closed this pooled connection")


def _connect_patiently(dialect: Dialect, record: object, cargs: tuple, cparams: dict) -> object:
    """Open a connection, retrying for CONNECT_PATIENCE_SECONDS while the server refuses or
    is starting: nothing was sent yet, so trying again is always safe."""
    deadline = time.monotonic() + CONNECT_PATIENCE_SECONDS
    delay = 0.1
    while True:
        try:
            return dialect.connect(*cargs, **cparams)
        except dialect.loaded_dbapi.OperationalError as exc:
            if not _transient(str(exc)) or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


# What a server that is restarting, failing over or full says when refusing a connection.
# Any other refusal it states (FATAL: a wrong password, a missing database) is final.
_TRANSIENT_REFUSALS = ("starting up", "shutting down", "in recovery mode", "not yet accepting",
                       "terminating connection", "too many")


def _transient(message: str) -> bool:
    """No answer at all (refused, reset, timed out), or a refusal that passes by itself."""
    return "FATAL:" not in message or any(words in message for words in _TRANSIENT_REFUSALS)


def is_unavailable(exc: BaseException) -> bool:
    """The database could not be reached, or the connection died under the statement: worth
    retrying later (a 503 with Retry-After, a requeued message), not a bug."""
    if isinstance(exc, sa_exc.DBAPIError):
        return exc.connection_invalidated or isinstance(
            exc, sa_exc.OperationalError | sa_exc.InterfaceError)
    return isinstance(exc, sa_exc.TimeoutError | sa_exc.DisconnectionError)


def session_factory(settings: Settings, service: str) -> sessionmaker:
    return sessionmaker(bind=engine_for(settings.database_url_of(service)), expire_on_commit=False)


def listen_connect_args(database_url: str) -> dict:
    """psycopg connect() arguments for a connection that only LISTENs, held open for long."""
    url = make_url(database_url)
    return {
        **url.translate_connect_args(username="user", database="dbname"), **url.query,
        "autocommit": True,
        # A connection that died without a word (a NAT or failover) must not leave its
        # listener waiting unnoticed: TCP keepalives find it, and a reconnect follows.
        "connect_timeout": 10, "keepalives": 1, "keepalives_idle": 30,
        "keepalives_interval": 10, "keepalives_count": 3,
    }


def snapshot_reads(settings: Settings, service: str) -> sessionmaker:
    """Sessions without a transaction, for a read that is one statement (which sees one
    snapshot by itself): no BEGIN and no ROLLBACK, two of a short read's three round trips.
    Never for writes, nor for reads of several statements that must agree."""
    return _snapshot_sessions(settings.database_url_of(service))


@lru_cache(maxsize=16)
def _snapshot_sessions(url: str) -> sessionmaker:
    engine = engine_for(url).execution_options(isolation_level="AUTOCOMMIT")
    return sessionmaker(bind=engine, expire_on_commit=False)


def ensure_database(settings: Settings, service: str) -> None:
    """Create the service's database if it does not exist (idempotent, race-tolerant)."""
    name = settings.database_name(service)
    admin_url = make_url(settings.database_url_of(service)).set(database="postgres")
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            ).first()
            if not exists:
                # Identifiers cannot be bound parameters; the name is ours (prefix + service).
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()


def drop_database(settings: Settings, service: str) -> None:
    name = settings.database_name(service)
    admin_url = make_url(settings.database_url_of(service)).set(database="postgres")
    engine_for.cache_clear()
    _snapshot_sessions.cache_clear()
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


def ping(settings: Settings, service: str) -> None:
    with engine_for(settings.database_url_of(service)).connect() as conn:
        conn.execute(text("SELECT 1"))
