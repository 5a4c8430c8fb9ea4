"""The ai service's one composition root: builds the service from its configuration. The only
module that reads settings, and the only one that knows every adapter."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from sqlalchemy.orm import sessionmaker

from pactra_platform.db import session_factory

from .adapters.engines import ConfiguredEngines
from .adapters.engines.offline.engine import MODEL as OFFLINE_MODEL
from .adapters.peers import DocumentsClient, GatewayClient
from .adapters.quotas import PlanQuotas
from .config import SERVICE, AiSettings
from .domain.analysis import EngineModels
from .service_layer.dependencies import AiService
from .service_layer.unit_of_work import SqlAlchemyUnitOfWork


@dataclass(frozen=True)
class Ai:
    """The service as its entrypoints run it: its configuration, its sessions and units of
    work (the worker's consumers, relay and jobs use them too), and the use cases'
    dependencies."""

    config: AiSettings
    sessions: sessionmaker
    uow: Callable[[], SqlAlchemyUnitOfWork]
    service: AiService


def bootstrap(config: AiSettings | None = None) -> Ai:
    """The service for ``config`` (None: read from the environment, ``PACTRA_*``)."""
    config = config or AiSettings()
    sessions = session_factory(config, SERVICE)
    llm = config.llm
    uow = partial(SqlAlchemyUnitOfWork, sessions)
    service = AiService(
        uow=uow, settings_peer=GatewayClient(config),
        documents=DocumentsClient(config), engines=ConfiguredEngines(llm),
        models=EngineModels(offline=OFFLINE_MODEL, llm=llm.model if llm else None),
        monthly_tokens=config.ai_monthly_tokens, stale_seconds=config.ai_stale_seconds,
        quotas=PlanQuotas(config) if config.quotas else None)
    return Ai(config, sessions, uow, service)
