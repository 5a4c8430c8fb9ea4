"""The unit of work the use cases run in: one transaction over the repositories, the outbox
(``publish``) and the inbox (``claim``). Handlers are typed against :class:`AbstractUnitOfWork`;
the worker and the API run them on :class:`SqlAlchemyUnitOfWork`, unit tests on a fake."""

from typing import Any, Protocol

from pactra_contracts.events import Event
from pactra_platform import erasure
from pactra_platform.db_wakeups import notify_on_commit
from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork as PlatformUnitOfWork
from pactra_platform.unit_of_work import UnitOfWork

from ..adapters.repository import (
    AnalysisRepository,
    ChoicesMirror,
    ResultCache,
    SqlAlchemyAnalyses,
    SqlAlchemyChoicesMirror,
    SqlAlchemyResultCache,
    SqlAlchemyTokenCounts,
    TokenCounts,
)
from ..config import SERVICE

# A commit that leaves an analysis pending wakes the worker's runner at once.
PENDING_CHANNEL = "pactra_analysis_pending"


class AbstractUnitOfWork(UnitOfWork, Protocol):
    analyses: AnalysisRepository
    cache: ResultCache
    tokens: TokenCounts
    choices: ChoicesMirror

    def wake_runner(self) -> None:
        """Have the analysis runner look for pending analyses once this commits."""

    def erase_workspace(self, workspace_id: str) -> dict[str, int]:
        """Delete everything the service holds of a deleted workspace; what, counted."""

    def report_purged(self, event: Event[Any], counts: dict[str, int]) -> None:
        """Publish ``workspace.purged`` for the deletion request ``event``."""


class SqlAlchemyUnitOfWork(PlatformUnitOfWork):
    def _start(self) -> None:
        self.analyses = SqlAlchemyAnalyses(self.session)
        self.cache = SqlAlchemyResultCache(self.session)
        self.tokens = SqlAlchemyTokenCounts(self.session)
        self.choices = SqlAlchemyChoicesMirror(self.session)

    def wake_runner(self) -> None:
        notify_on_commit(self.session, PENDING_CHANNEL)

    def erase_workspace(self, workspace_id: str) -> dict[str, int]:
        counts = erasure.begin_purge(self.session, workspace_id)
        counts["analysis_cache"] = self.cache.forget_workspace(workspace_id)
        counts |= erasure.purge_workspace_rows(self.session, workspace_id)
        return counts

    def report_purged(self, event: Event[Any], counts: dict[str, int]) -> None:
        erasure.report_purged(self.session, event, SERVICE, counts)
