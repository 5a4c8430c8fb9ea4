"""The gateway's composition root: builds every concrete dependency from its settings. The only
code that reads them; the app (entrypoints/app.py), the worker (entrypoints/worker.py) and
``pactra-admin`` start here."""

from dataclasses import dataclass
from functools import cached_property

from sqlalchemy.orm import sessionmaker

from pactra_gateway import SERVICE
from pactra_gateway.adapters.clock import Clock
from pactra_gateway.adapters.idempotency import IdempotencyStore, body_cipher
from pactra_gateway.adapters.proxy import Forwarder
from pactra_gateway.adapters.rate_limits import RateLimits
from pactra_gateway.adapters.usage_counters import RequestCounter, Usage
from pactra_gateway.config import GatewaySettings
from pactra_gateway.domain import plans
from pactra_gateway.service_layer.unit_of_work import SqlAlchemyGatewayUnitOfWork
from pactra_platform.db import session_factory
from pactra_platform.internal_client import ServiceClient


@dataclass
class Gateway:
    settings: GatewaySettings
    sessions: sessionmaker
    idempotency: IdempotencyStore
    rate_limits: RateLimits
    usage: Usage
    requests: RequestCounter

    def uow(self) -> SqlAlchemyGatewayUnitOfWork:
        return SqlAlchemyGatewayUnitOfWork(self.sessions, self.usage)

    # Made on first use: they sign internal calls with the gateway's internal key, which the
    # worker module, imported where no secret is set, never needs.
    @cached_property
    def forwarder(self) -> Forwarder:
        return Forwarder(self.settings)

    @cached_property
    def signing(self) -> ServiceClient:
        """Signing, asked for an agreement's signers when the gateway has no record of them."""
        return ServiceClient(self.settings, SERVICE, "signing", timeout=10.0)


def bootstrap(settings: GatewaySettings | None = None, *, require_secrets: bool = True) -> Gateway:
    """The gateway from ``settings`` (the environment's when None). ``require_secrets=False``
    for the worker module, which is also imported where no secret is set (``make docs``,
    ``pactra-migrate`` listing its queues); a worker started on a wrong master key is refused
    at its start (``pactra_platform.key_check``)."""
    settings = settings or GatewaySettings()
    if require_secrets:
        settings.require_secrets(SERVICE)  # the master key, and the key it signs forwards with
    sessions = session_factory(settings, SERVICE)
    usage = usage_for(settings, sessions)
    return Gateway(
        settings=settings,
        sessions=sessions,
        idempotency=IdempotencyStore(sessions, body_cipher(settings.master_key, sessions)),
        rate_limits=RateLimits(settings),
        usage=usage,
        requests=RequestCounter(usage),
    )


def usage_for(settings: GatewaySettings, sessions: sessionmaker) -> Usage:
    """The usage counters and quota decisions; refuses to start on a broken plans file (an
    operator's typo must not put every workspace on no plan)."""
    catalogue = plans.load(settings.plans_file)
    catalogue.require(settings.default_plan, "PACTRA_DEFAULT_PLAN")
    return Usage(sessions.kw["bind"], catalogue, Clock(settings.clock_file), quotas=settings.quotas)
