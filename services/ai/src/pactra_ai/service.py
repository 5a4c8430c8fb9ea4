"""Wires the ai service's dependencies; the only module that knows them all."""

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy.orm import sessionmaker

from pactra_platform.db import session_factory
from pactra_platform.quotas import Quotas
from pactra_platform.settings import Settings, get_settings
from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork

from .config import AiSettings, get_ai_settings
from .peers import DocumentsClient, GatewayClient

SERVICE = "ai"


@dataclass
class AiService:
    settings: Settings
    ai: AiSettings
    sessions: sessionmaker
    documents: DocumentsClient
    gateway: GatewayClient
    # The gateway's decision on the plan's AI quotas, asked when an analysis is requested.
    quotas: Quotas | None = None

    def uow(self) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(self.sessions)


def build(settings: Settings, ai: AiSettings | None = None) -> AiService:
    return AiService(settings, ai or get_ai_settings(), session_factory(settings, SERVICE),
                     DocumentsClient(settings), GatewayClient(settings),
                     Quotas(settings, SERVICE) if settings.quotas else None)


@lru_cache(maxsize=1)
def default_service() -> AiService:
    return build(get_settings())
