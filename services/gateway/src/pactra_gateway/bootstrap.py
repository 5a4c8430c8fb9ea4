"""Wires the gateway's concrete dependencies; the only module that knows them all."""

from dataclasses import dataclass

from sqlalchemy.orm import sessionmaker

from pactra_platform.crypto import SecretBox
from pactra_platform.db import session_factory
from pactra_platform.settings import Settings
from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork

from .idempotency import IdempotencyStore
from .proxy import Forwarder
from .rate_limits import RateLimits

SERVICE = "gateway"


@dataclass
class Gateway:
    settings: Settings
    sessions: sessionmaker
    idempotency: IdempotencyStore
    rate_limits: RateLimits
    forwarder: Forwarder

    def uow(self) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(self.sessions)


def bootstrap(settings: Settings) -> Gateway:
    settings.require_secrets()
    sessions = session_factory(settings, SERVICE)
    return Gateway(
        settings=settings,
        sessions=sessions,
        idempotency=IdempotencyStore(sessions, SecretBox(settings.master_key, "idempotency")),
        rate_limits=RateLimits(settings),
        forwarder=Forwarder(settings),
    )
