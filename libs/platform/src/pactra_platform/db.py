"""Database plumbing: one PostgreSQL database per service, SQLAlchemy 2 sessions."""

from datetime import datetime
from functools import lru_cache

from sqlalchemy import DateTime, Engine, MetaData, create_engine, text
from sqlalchemy.engine import make_url
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


@lru_cache(maxsize=16)
def engine_for(url: str) -> Engine:
    # No pre-ping: it costs a round trip on every checkout, a large share of a short request.
    # A connection the server dropped fails one statement, and SQLAlchemy then discards the
    # whole pool, so after a database restart each process errs once and recovers.
    return create_engine(url, pool_size=10, max_overflow=10, pool_recycle=3600)


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
