"""In-memory stand-ins for the gateway's unit of work and its repositories: the handlers run
against these in unit tests, with no database or broker."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from pactra_contracts.events import Event
from pactra_gateway.adapters.models import Export, WorkspaceDeletion
from pactra_gateway.domain import deletions as rules
from pactra_gateway.domain import plans


class FakeDeletions:
    def __init__(self, *rows: WorkspaceDeletion) -> None:
        self.rows = {row.id: row for row in rows}
        self.locked: list[str] = []

    def get(self, deletion_id: str, *, lock: bool = False) -> WorkspaceDeletion | None:
        if lock:
            self.locked.append(deletion_id)
        return self.rows.get(deletion_id)

    def due(self, now: datetime, retry_before: datetime, limit: int) -> Sequence[WorkspaceDeletion]:
        return [row for row in self.rows.values()
                if (row.status == rules.SCHEDULED and row.purge_at is not None and row.purge_at <= now)
                or (row.status == rules.RUNNING and row.published_at is not None
                    and row.published_at <= retry_before)][:limit]


class FakeExports:
    def __init__(self, *rows: Export) -> None:
        self.rows = {row.id: row for row in rows}

    def get(self, export_id: str, *, lock: bool = False) -> Export | None:
        return self.rows.get(export_id)


@dataclass
class Counted:
    workspace_id: str
    metric: str
    quantity: int
    source_id: str
    occurred_at: datetime


@dataclass
class FakeUsageLedger:
    """Counts once per (source, metric), as the real counters do."""

    counted: list[Counted] = field(default_factory=list)

    def record(self, workspace_id: str, metric: str, quantity: int, source_id: str,
               occurred_at: datetime) -> bool:
        if any(c.source_id == source_id and c.metric == metric for c in self.counted):
            return False
        self.counted.append(Counted(workspace_id, metric, quantity, source_id, occurred_at))
        return True


class FakeUnitOfWork:
    def __init__(self, *rows: WorkspaceDeletion | Export) -> None:
        self.deletions = FakeDeletions(*(r for r in rows if isinstance(r, WorkspaceDeletion)))
        self.exports = FakeExports(*(r for r in rows if isinstance(r, Export)))
        self.woken: list[str] = []
        self.usage = FakeUsageLedger()
        self.catalogue = plans.load(None)
        self.published: list[Event[Any]] = []
        self.committed = False
        self.claimed: set[tuple[str, str]] = set()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        pass

    def publish(self, event: Event[Any]) -> None:
        self.published.append(event)

    def claim(self, event: Event[Any], consumer: str) -> bool:
        if (event.id, consumer) in self.claimed:
            return False
        self.claimed.add((event.id, consumer))
        return True

    def wake(self, channel: str) -> None:
        self.woken.append(channel)

    def commit(self) -> None:
        self.committed = True

    def rollback(self) -> None:
        self.committed = False
