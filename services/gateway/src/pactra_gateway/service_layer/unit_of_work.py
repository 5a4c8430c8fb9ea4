"""The gateway's unit of work: one transaction for a use case, its outbox rows and inbox record,
with the repositories the handlers go through. Handlers are typed against
:class:`GatewayUnitOfWork`, so a unit test hands them a fake (tests/unit/fakes.py)."""

from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pactra_contracts.events import Event
from pactra_gateway.adapters.api_key_lookup import KeyRow, key_by_hash
from pactra_gateway.adapters.models import Export, WorkspaceDeletion
from pactra_gateway.adapters.usage_counters import KeyedReservation, Usage
from pactra_gateway.domain.plans import Catalogue
from pactra_gateway.domain.quotas import Ask
from pactra_platform.db_wakeups import notify_on_commit
from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork


class Deletions(Protocol):
    """Workspace deletions (the saga's rows)."""

    def get(self, deletion_id: str, *, lock: bool = False) -> WorkspaceDeletion | None: ...

    def due(self, now: datetime, retry_before: datetime, limit: int) -> Sequence[WorkspaceDeletion]:
        """Scheduled ones whose grace period ended, and running ones last asked before
        ``retry_before``; rows another replica holds are skipped."""
        ...


class Exports(Protocol):
    def get(self, export_id: str, *, lock: bool = False) -> Export | None: ...


class UsageLedger(Protocol):
    """The usage counters, in this unit of work's transaction."""

    def record(self, workspace_id: str, metric: str, quantity: int, source_id: str,
               occurred_at: datetime) -> bool: ...


class GatewayUnitOfWork(Protocol):
    @property
    def deletions(self) -> Deletions: ...

    @property
    def exports(self) -> Exports: ...

    @property
    def usage(self) -> UsageLedger: ...

    @property
    def catalogue(self) -> Catalogue: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...

    def publish(self, event: Event[Any]) -> None: ...

    def claim(self, event: Event[Any], consumer: str) -> bool: ...

    def wake(self, channel: str) -> None:
        """Wake whoever listens on ``channel`` once this unit of work commits."""
        ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class SqlDeletions:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, deletion_id: str, *, lock: bool = False) -> WorkspaceDeletion | None:
        return self.session.get(WorkspaceDeletion, deletion_id, with_for_update=lock)

    def due(self, now: datetime, retry_before: datetime, limit: int) -> Sequence[WorkspaceDeletion]:
        return self.session.scalars(select(WorkspaceDeletion).where(
            ((WorkspaceDeletion.status == "scheduled") & (WorkspaceDeletion.purge_at <= now))
            | ((WorkspaceDeletion.status == "running")
               & (WorkspaceDeletion.published_at <= retry_before)))
            .limit(limit).with_for_update(skip_locked=True)).all()


class SqlExports:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, export_id: str, *, lock: bool = False) -> Export | None:
        return self.session.get(Export, export_id, with_for_update=lock)


class SqlUsageLedger:
    def __init__(self, usage: Usage, session: Session) -> None:
        self._usage, self._session = usage, session

    def record(self, workspace_id: str, metric: str, quantity: int, source_id: str,
               occurred_at: datetime) -> bool:
        return self._usage.record(self._session.connection(), workspace_id, metric, quantity,
                                  source_id, occurred_at)


class SqlAlchemyGatewayUnitOfWork(SqlAlchemyUnitOfWork):
    deletions: SqlDeletions
    exports: SqlExports
    usage: SqlUsageLedger

    def __init__(self, sessions: sessionmaker[Session], usage: Usage) -> None:
        super().__init__(sessions)
        self._usage = usage
        self.catalogue = usage.catalogue

    def key_by_hash(self, digest: str) -> KeyRow | None:
        """The API key whose digest is ``digest``, with its workspace's plan: one statement
        that commits on its own, outside this unit's transaction (every request asks it)."""
        return key_by_hash(self._usage.engine, digest)

    def key_with_send_reserved(self, digest: str, ask: Ask) -> KeyedReservation | None:
        """An API key's look-up with a send's reservation, as one statement that commits on
        its own, outside this unit's transaction (Usage.key_with_send_reserved)."""
        return self._usage.key_with_send_reserved(digest, ask)

    def _start(self) -> None:
        self.deletions = SqlDeletions(self.session)
        self.exports = SqlExports(self.session)
        self.usage = SqlUsageLedger(self._usage, self.session)

    def wake(self, channel: str) -> None:
        notify_on_commit(self.session, channel)
