"""The ai service's worker: its event handlers and its outbox relay.

Run with ``faststream run pactra_ai.entrypoints.worker:app``.
"""

from pactra_platform.bus import Subscription, build_worker
from pactra_platform.db import session_factory
from pactra_platform.settings import get_settings
from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork

from .. import handlers
from .app import SERVICE, USES_STORAGE

SUBSCRIPTIONS = (
    Subscription("on_workspace_created", ("workspace.created",), handlers.on_workspace_created),
    Subscription("on_workspace_updated", ("workspace.updated",), handlers.on_workspace_updated),
)
__all__ = ["SUBSCRIPTIONS", "USES_STORAGE", "app"]

settings = get_settings()
sessions = session_factory(settings, SERVICE)
app = build_worker(settings, SERVICE, SUBSCRIPTIONS, lambda: SqlAlchemyUnitOfWork(sessions), sessions,
                   uses_storage=USES_STORAGE)
