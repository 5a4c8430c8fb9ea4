"""``pactra-migrate``: bring a service's database and queues up to date.

Each service keeps its Alembic scripts in ``pactra_<service>/migrations``; its
``entrypoints/worker.py`` lists its ``SUBSCRIPTIONS`` (queues). Buckets are created by the
service's worker at start, since the object store may start after the migrations ran.
Safe to run repeatedly and from several replicas at once (Alembic's version table and
idempotent declarations).
"""

import argparse
import asyncio
import importlib
import logging

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, engine_from_config, pool

from pactra_contracts.services import SERVICES

from . import key_check, logs
from .bus.topology import declare_topology
from .db import engine_for, ensure_database
from .settings import Settings, get_settings

log = logging.getLogger(__name__)


def alembic_config(settings: Settings, service: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", f"pactra_{service}:migrations")
    # ConfigParser interpolates '%': escape it so URLs with encoded characters survive.
    cfg.set_main_option("sqlalchemy.url", settings.database_url_of(service).replace("%", "%%"))
    return cfg


def run_env(target_metadata: MetaData) -> None:
    """The body of every service's ``migrations/env.py`` (online mode only)."""
    config = context.config
    engine = engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def migrate(settings: Settings, service: str) -> None:
    # Label this service's migration logs with its own name (importing a worker below sets it
    # too, but only after the upgrade has logged).
    logs.configure_logging(service, settings.log_level)
    ensure_database(settings, service)
    # Before any migration touches the data: a database made under another master key is
    # refused with what to do, rather than migrated into a state nothing can decrypt.
    key_check.record(engine_for(settings.database_url_of(service)), settings, service)
    command.upgrade(alembic_config(settings, service), "head")
    worker = importlib.import_module(f"pactra_{service}.entrypoints.worker")
    asyncio.run(declare_topology(settings, service, getattr(worker, "SUBSCRIPTIONS", ())))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("services", nargs="*", help=f"any of {', '.join(SERVICES)} (default: all)")
    args = parser.parse_args(argv)
    unknown = set(args.services) - set(SERVICES)
    if unknown:
        parser.error(f"unknown service(s): {', '.join(sorted(unknown))}")
    settings = get_settings()
    for service in args.services or SERVICES:
        try:
            migrate(settings, service)
        except key_check.MasterKeyMismatch as exc:
            raise SystemExit(str(exc)) from None
        print(f"migrated {service}: database {settings.database_name(service)} and queues")
