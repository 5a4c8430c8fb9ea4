"""Wires the gateway's concrete dependencies; the only module that knows them all."""

from dataclasses import dataclass

from sqlalchemy.orm import sessionmaker

from pactra_platform.db import session_factory
from pactra_platform.settings import Settings
from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork

from . import plans
from .idempotency import IdempotencyStore, body_cipher
from .periods import Clock
from .proxy import Forwarder
from .rate_limits import RateLimits
from .usage import RequestCounter, Usage

SERVICE = "gateway"


@dataclass
class Gateway:
    settings: Settings
    sessions: sessionmaker
    idempotency: IdempotencyStore
    rate_limits: RateLimits
    forwarder: Forwarder
    usage: Usage
    requests: RequestCounter

    def uow(self) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(self.sessions)


def bootstrap(settings: Settings) -> Gateway:
    settings.require_secrets()
    sessions = session_factory(settings, SERVICE)
    usage = usage_for(settings, sessions)
    return Gateway(
        settings=settings,
        sessions=sessions,
        idempotency=IdempotencyStore(sessions, body_cipher(settings.master_key, sessions)),
        rate_limits=RateLimits(settings),
        forwarder=Forwarder(settings),
        usage=usage,
        requests=RequestCounter(usage),
    )


def usage_for(settings: Settings, sessions: sessionmaker) -> Usage:
    """The usage counters and quota decisions; refuses to start on a broken plans file (an
    operator's typo must not put every workspace on no plan)."""
    catalogue = plans.catalogue(settings.plans_file)
    if settings.default_plan not in catalogue.plans:
        raise RuntimeError(f"PACTRA_DEFAULT_PLAN={settings.default_plan} is not a plan; the plans "
                           f"are {', '.join(catalogue.plans)}")
    return Usage(sessions.kw["bind"], catalogue, Clock(settings.clock_file),
                 quotas=settings.quotas)
