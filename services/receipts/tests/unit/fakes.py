"""In-memory stand-ins for the receipts service's unit of work and backends: what the
handlers and the issuer need, with no database and no broker."""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Self

from pactra_contracts.events import Event
from pactra_contracts.times import utcnow
from pactra_receipts.domain.trail import GENESIS


@dataclass
class FakeAgreement:
    id: str
    workspace_id: str
    livemode: bool = True
    created: dict[str, Any] | None = None
    outcome: str | None = None
    outcome_reason: str | None = None
    entries: int = 0
    head: str = GENESIS


@dataclass
class FakeSigner:
    signer_id: str
    status: str = "pending"
    invited_at: str | None = None
    viewed_at: str | None = None
    consent_at: str | None = None
    signed_at: str | None = None
    declined_at: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    document_sha256: str | None = None
    signature: dict[str, Any] | None = None
    field_values: dict[str, Any] | None = None


@dataclass
class FakeJob:
    agreement_id: str
    workspace_id: str
    status: str = "issuing"
    attempts: int = 0
    next_attempt_at: datetime | None = None
    attempt_started_at: datetime | None = None
    reason: str | None = None
    tsa_failing_since: datetime | None = None
    correlation_id: str | None = None
    causation_id: str | None = None


class FakeTrails:
    def __init__(self) -> None:
        self.agreements: dict[str, FakeAgreement] = {}
        self.entries: dict[str, list[dict[str, Any]]] = {}
        self.evidence: dict[str, dict[str, FakeSigner]] = {}
        self.receipts: dict[str, dict[str, Any]] = {}

    def lock(self, agreement_id: str, workspace_id: str, livemode: bool = True) -> FakeAgreement:
        return self.agreements.setdefault(agreement_id, FakeAgreement(agreement_id, workspace_id, livemode))

    def locked(self, agreement_id: str) -> FakeAgreement:
        return self.agreements[agreement_id]

    def add_entry(self, agreement_id: str, entry: dict[str, Any]) -> None:
        self.entries.setdefault(agreement_id, []).append(entry)

    def signer(self, agreement_id: str, signer_id: str) -> FakeSigner:
        return self.evidence.setdefault(agreement_id, {}).setdefault(signer_id, FakeSigner(signer_id))

    def signers(self, agreement_id: str) -> dict[str, FakeSigner]:
        return dict(self.evidence.get(agreement_id, {}))

    def was_sent(self, agreement_id: str) -> bool:
        return any(e["type"] == "agreement.sent" for e in self.entries.get(agreement_id, ()))

    def has_receipt(self, agreement_id: str) -> bool:
        return agreement_id in self.receipts

    def add_receipt(self, agreement_id: str, workspace_id: str, body: dict[str, Any], sha256: str,
                    signed_pdf: str | None, certificate_pdf: str | None) -> None:
        self.receipts[agreement_id] = body

    def livemode_of(self, agreement_id: str) -> bool:
        return self.agreements[agreement_id].livemode if agreement_id in self.agreements else True

    def flush(self) -> None:
        pass

    def of_workspace(self, workspace_id: str, agreement_id: str | None = None) -> list[str]:
        return [a.id for a in self.agreements.values() if a.workspace_id == workspace_id
                and agreement_id in (None, a.id)]

    def purge(self, store: Any, agreement_ids: Iterable[str]) -> dict[str, int]:
        ids = list(agreement_ids)
        objects = sum(store.delete_prefix(f"{agreement_id}/") for agreement_id in ids)
        tombstoned = sum(agreement_id in self.receipts for agreement_id in ids)
        for agreement_id in ids:
            for kept in (self.agreements, self.entries, self.evidence, self.receipts):
                kept.pop(agreement_id, None)
        return {"agreements": len(ids), "receipts_tombstoned": tombstoned, "objects": objects}


class FakeJobs:
    def __init__(self) -> None:
        self.jobs: dict[str, FakeJob] = {}

    def mark_due(self, agreement_id: str, workspace_id: str, correlation_id: str | None,
                 causation_id: str | None) -> None:
        self.jobs.setdefault(agreement_id, FakeJob(agreement_id, workspace_id, next_attempt_at=utcnow(),
                                                   correlation_id=correlation_id, causation_id=causation_id))

    def claim_due(self) -> FakeJob | None:
        now = utcnow()
        due = sorted((job for job in self.jobs.values()
                      if job.next_attempt_at is not None and job.next_attempt_at <= now),
                     key=lambda job: job.next_attempt_at or now)
        return due[0] if due else None

    def claim(self, agreement_id: str) -> FakeJob | None:
        return self.jobs.get(agreement_id)

    def settle(self, job: FakeJob) -> None:
        self.jobs.pop(job.agreement_id, None)

    def retry(self, agreement_ids: list[str] | None) -> list[str]:
        return []


class FakeErasure:
    def __init__(self) -> None:
        self.reports: list[dict[str, int]] = []

    def begin(self, workspace_id: str) -> dict[str, int]:
        return {"keys_shredded": 1}

    def purge_rows(self, workspace_id: str) -> dict[str, int]:
        return {"rows": 0}

    def report(self, event: Event, service: str, counts: dict[str, int]) -> None:
        self.reports.append(counts)


@dataclass
class FakeUnitOfWork:
    trails: FakeTrails = field(default_factory=FakeTrails)
    jobs: FakeJobs = field(default_factory=FakeJobs)
    erasure: FakeErasure = field(default_factory=FakeErasure)
    published: list[Event] = field(default_factory=list)
    woken: list[str] = field(default_factory=list)
    commits: int = 0

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass

    def publish(self, event: Event) -> None:
        self.published.append(event)

    def claim(self, event: Event, consumer: str) -> bool:
        return True

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        yield

    def settled(self, agreement_id: str) -> None:
        self.woken.append(agreement_id)

    def commit(self) -> None:
        self.commits += 1

    def rollback(self) -> None:
        pass


class FakeStore:
    """Objects by name, in memory."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put(self, name: str, chunks: Iterable[bytes], *, workspace_id: str | None = None) -> int:
        self.objects[name] = b"".join(chunks)
        return len(self.objects[name])

    def delete_prefix(self, prefix: str) -> int:
        doomed = [name for name in self.objects if name.startswith(prefix)]
        for name in doomed:
            del self.objects[name]
        return len(doomed)
