"""The ai service's repositories: what the use cases ask of storage (the protocols), and their
SQLAlchemy implementations on one unit of work's session. tests/unit/fakes.py holds the
in-memory ones."""

from collections.abc import Iterator
from datetime import datetime
from typing import Protocol

from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain.analysis import PENDING, RUNNING, AiChoices, Analysis, CachedResult
from ..domain.errors import AnalysisExists
from .orm import CachedAnalysis, TokenUsage, WorkspaceAiSettings


class AnalysisRepository(Protocol):
    def get(self, analysis_id: str, *, lock: bool = False) -> Analysis | None: ...

    def for_document(self, workspace_id: str, document_id: str, *,
                     lock: bool = False) -> Analysis | None: ...

    def add(self, analysis: Analysis) -> None:
        """Store a new analysis; :class:`AnalysisExists` when the document has one already."""

    def delete(self, analysis: Analysis) -> None: ...

    def next_to_run(self, stale_before: datetime) -> Analysis | None:
        """The oldest claimable analysis, locked against other runners (which skip it)."""

    def of_workspace(self, workspace_id: str) -> Iterator[Analysis]: ...


class ResultCache(Protocol):
    def get(self, workspace_id: str, sha256: str, engine: str, model: str) -> CachedResult | None: ...

    def add(self, workspace_id: str, sha256: str, engine: str, model: str, result: CachedResult,
            now: datetime) -> None: ...

    def forget_workspace(self, workspace_id: str) -> int:
        """Drop the workspace's cached results; how many there were."""


class TokenCounts(Protocol):
    def used(self, workspace_id: str, month: str) -> int: ...

    def add(self, workspace_id: str, month: str, tokens: int) -> None: ...


class ChoicesMirror(Protocol):
    """The workspaces' AI choices as ``workspace.*`` events told them (models the gateway's)."""

    def get(self, workspace_id: str, *, lock: bool = False) -> AiChoices | None: ...

    def put(self, workspace_id: str, choices: AiChoices) -> None: ...


class SqlAlchemyAnalyses:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, analysis_id: str, *, lock: bool = False) -> Analysis | None:
        return self.session.get(Analysis, analysis_id, with_for_update=lock)

    def for_document(self, workspace_id: str, document_id: str, *,
                     lock: bool = False) -> Analysis | None:
        query = select(Analysis).where(Analysis.workspace_id == workspace_id,
                                       Analysis.document_id == document_id)
        return self.session.scalar(query.with_for_update() if lock else query)

    def add(self, analysis: Analysis) -> None:
        self.session.add(analysis)
        try:
            # Now, not at commit: a concurrent request's row makes this one moot at once.
            self.session.flush()
        except IntegrityError as exc:
            raise AnalysisExists(analysis.document_id) from exc

    def delete(self, analysis: Analysis) -> None:
        self.session.delete(analysis)

    def next_to_run(self, stale_before: datetime) -> Analysis | None:
        return self.session.scalar(
            select(Analysis).where(or_(
                Analysis.status == PENDING,
                (Analysis.status == RUNNING) & (Analysis.claimed_at < stale_before),
            )).order_by(Analysis.updated_at).limit(1).with_for_update(skip_locked=True))

    def of_workspace(self, workspace_id: str) -> Iterator[Analysis]:
        return iter(self.session.scalars(
            select(Analysis).where(Analysis.workspace_id == workspace_id)
            .order_by(Analysis.created_at, Analysis.id).execution_options(yield_per=200)))


class SqlAlchemyResultCache:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, workspace_id: str, sha256: str, engine: str, model: str) -> CachedResult | None:
        row = self.session.get(CachedAnalysis, (workspace_id, sha256, engine, model))
        return None if row is None else CachedResult(row.summary, row.clauses)

    def add(self, workspace_id: str, sha256: str, engine: str, model: str, result: CachedResult,
            now: datetime) -> None:
        self.session.add(CachedAnalysis(scope=workspace_id, sha256=sha256, engine=engine, model=model,
                                        summary=result.summary, clauses=result.clauses, created_at=now))

    def forget_workspace(self, workspace_id: str) -> int:
        # Its rows hold the workspace in ``scope``: the platform's purge by ``workspace_id``
        # does not find them.
        return self.session.execute(
            delete(CachedAnalysis).where(CachedAnalysis.scope == workspace_id)).rowcount


class SqlAlchemyTokenCounts:
    def __init__(self, session: Session) -> None:
        self.session = session

    def used(self, workspace_id: str, month: str) -> int:
        row = self.session.get(TokenUsage, (workspace_id, month))
        return row.tokens if row else 0

    def add(self, workspace_id: str, month: str, tokens: int) -> None:
        usage = self.session.get(TokenUsage, (workspace_id, month), with_for_update=True)
        if usage is None:
            usage = TokenUsage(workspace_id=workspace_id, month=month, tokens=0)
            self.session.add(usage)
        usage.tokens += tokens


class SqlAlchemyChoicesMirror:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, workspace_id: str, *, lock: bool = False) -> AiChoices | None:
        row = self.session.get(WorkspaceAiSettings, workspace_id, with_for_update=lock)
        return None if row is None else AiChoices(row.ai_enabled, row.ai_engine, row.ai_auto_analyze)

    def put(self, workspace_id: str, choices: AiChoices) -> None:
        row = self.session.get(WorkspaceAiSettings, workspace_id)
        if row is None:
            row = WorkspaceAiSettings(workspace_id=workspace_id)
            self.session.add(row)
        row.ai_enabled, row.ai_engine = choices.ai_enabled, choices.ai_engine
        row.ai_auto_analyze = choices.ai_auto_analyze
