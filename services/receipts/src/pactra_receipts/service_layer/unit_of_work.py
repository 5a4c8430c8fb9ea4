"""The unit of work the receipts service's handlers and use cases run in: its repositories,
``publish``, ``claim``, ``commit`` and ``rollback``. Handlers are typed against
:class:`ReceiptsUnitOfWork`, so unit tests hand them a fake (tests/unit/fakes.py);
:class:`SqlReceiptsUnitOfWork` is the real one, on the service's PostgreSQL."""

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol, Self

from pactra_contracts.events import Event
from pactra_platform.messaging import notify_on_commit
from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork

from ..adapters.purging import ObjectDeleter
from ..adapters.repository import EVIDENCE_SETTLED_CHANNEL, SqlErasure, SqlEvidenceJobs, SqlTrails
from ..domain.attempts import EvidenceJob
from ..domain.trail import SignerEvidence, TrackedAgreement


class Trails(Protocol):
    """Agreements as their trails know them, their entries, signers and receipts."""

    def lock(self, agreement_id: str, workspace_id: str, livemode: bool = True) -> TrackedAgreement:
        """The agreement, made if absent, locked until the unit of work ends."""

    def locked(self, agreement_id: str) -> TrackedAgreement:
        """An agreement known to exist, locked until the unit of work ends."""

    def add_entry(self, agreement_id: str, entry: dict[str, Any]) -> None: ...

    def signer(self, agreement_id: str, signer_id: str) -> SignerEvidence:
        """That signer's evidence, made if absent."""

    def signers(self, agreement_id: str) -> dict[str, SignerEvidence]: ...

    def was_sent(self, agreement_id: str) -> bool: ...

    def has_receipt(self, agreement_id: str) -> bool: ...

    def add_receipt(self, agreement_id: str, workspace_id: str, body: dict[str, Any], sha256: str,
                    signed_pdf: str | None, certificate_pdf: str | None) -> None: ...

    def livemode_of(self, agreement_id: str) -> bool: ...

    def flush(self) -> None: ...

    def of_workspace(self, workspace_id: str, agreement_id: str | None = None) -> list[str]:
        """The workspace's agreements (or that one, if it is the workspace's)."""

    def purge(self, store: ObjectDeleter, agreement_ids: Iterable[str]) -> dict[str, int]:
        """Tombstone the agreements' receipts, delete the rest of their evidence; counts."""


class EvidenceJobs(Protocol):
    """Ended agreements whose evidence is due."""

    def mark_due(self, agreement_id: str, workspace_id: str, correlation_id: str | None,
                 causation_id: str | None) -> None: ...

    def claim_due(self) -> EvidenceJob | None:
        """The job due first that no other issuer holds."""

    def claim(self, agreement_id: str) -> EvidenceJob | None:
        """That agreement's job, unless gone or held by another issuer."""

    def settle(self, job: EvidenceJob) -> None: ...

    def retry(self, agreement_ids: list[str] | None) -> list[str]: ...


class Erasure(Protocol):
    """The platform's part of a workspace's purge (pactra_platform.erasure)."""

    def begin(self, workspace_id: str) -> dict[str, int]: ...

    def purge_rows(self, workspace_id: str) -> dict[str, int]: ...

    def report(self, event: Event[Any], service: str, counts: dict[str, int]) -> None: ...


class ReceiptsUnitOfWork(Protocol):
    trails: Trails
    jobs: EvidenceJobs
    erasure: Erasure

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc_info: object) -> None: ...

    def publish(self, event: Event[Any]) -> None: ...

    def claim(self, event: Event[Any], consumer: str) -> bool: ...

    def savepoint(self) -> AbstractContextManager[None]:
        """A block whose failure undoes its own changes only; the locks stay held."""

    def settled(self, agreement_id: str) -> None:
        """Wake the requests waiting for this agreement's receipt, once this commits."""

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class SqlReceiptsUnitOfWork(SqlAlchemyUnitOfWork):
    trails: SqlTrails
    jobs: SqlEvidenceJobs
    erasure: SqlErasure

    def _start(self) -> None:
        self.trails = SqlTrails(self.session)
        self.jobs = SqlEvidenceJobs(self.session)
        self.erasure = SqlErasure(self.session)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        with self.session.begin_nested():
            yield

    def settled(self, agreement_id: str) -> None:
        notify_on_commit(self.session, EVIDENCE_SETTLED_CHANNEL, agreement_id)
