"""Service-layer tests of signing against a real PostgreSQL database of their own."""

import secrets
from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import select

from pactra_contracts.events import SYSTEM
from pactra_platform.db import drop_database, ensure_database, session_factory
from pactra_platform.messaging import OutboxMessage
from pactra_platform.migrations import alembic_config
from pactra_platform.settings import Settings
from pactra_signing.adapters.tokens import TokenVault
from pactra_signing.domain.workspace import Sender
from pactra_signing.service_layer.context import Context
from pactra_signing.service_layer.unit_of_work import SqlUnitOfWork


@pytest.fixture(scope="module")
def settings() -> Iterator[Settings]:
    settings = Settings(db_prefix=f"pactra_u{secrets.token_hex(4)}_", master_key="m" * 40,
                        public_url="https://sign.example")
    ensure_database(settings, "signing")
    command.upgrade(alembic_config(settings, "signing"), "head")
    try:
        yield settings
    finally:
        drop_database(settings, "signing")


@pytest.fixture
def uow_factory(settings):
    sessions = session_factory(settings, "signing")
    return lambda: SqlUnitOfWork(sessions)


@pytest.fixture
def ctx(settings) -> Context:
    return Context(master_key=settings.master_key, public_url=settings.public_url,
                   vault=TokenVault(settings.master_key, session_factory(settings, "signing")),
                   request_id="req_test", actor=SYSTEM)


@pytest.fixture
def sender() -> Sender:
    return Sender(workspace_id="ws_test", workspace_name="Test", name="Sam Sender", email="sam@example.com")


@pytest.fixture
def outbox(uow_factory):
    """The events committed so far, oldest first, optionally of one type."""
    def read(event_type: str | None = None) -> list[dict]:
        with uow_factory() as uow:
            query = select(OutboxMessage).order_by(OutboxMessage.created_at, OutboxMessage.id)
            if event_type:
                query = query.where(OutboxMessage.type == event_type)
            return [row.body for row in uow.session.scalars(query)]
    return read
