"""The unit of work the documents service's handlers are written against: one transaction over
its repositories, the outbox (``publish``) and the inbox (``claim``); and its SQLAlchemy
implementation. Unit tests pass ``tests/unit/fakes.py``'s ``FakeUnitOfWork`` instead."""

from collections.abc import Iterator
from typing import Any, Protocol

from pactra_contracts.events import Event
from pactra_platform import erasure
from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork, UnitOfWork

from .. import SERVICE
from ..adapters.repository import SqlAlchemyAgreementUseRepository, SqlAlchemyDocumentRepository
from ..domain.model import AgreementUse, Document


class DocumentRepository(Protocol):
    def add(self, document: Document) -> None: ...

    def get(self, workspace_id: str, document_id: str, livemode: bool | None, *,
            lock: bool = False) -> Document | None:
        """The workspace's document when ``visible_in(livemode)``; ``lock``: held for update
        until the unit of work ends."""

    def newest(self, workspace_id: str, livemode: bool | None, limit: int,
               starting_after: str | None) -> list[Document]:
        """Up to ``limit`` documents, newest first, after the one named by ``starting_after``
        (``UnknownCursor`` when the workspace has no such document in that mode)."""

    def of_workspace(self, workspace_id: str) -> Iterator[Document]:
        """Every document of the workspace, oldest first, read as they are used."""

    def remove(self, document: Document) -> None: ...


class AgreementUseRepository(Protocol):
    def get(self, agreement_id: str) -> AgreementUse | None:
        """The agreement's use, held for update until the unit of work ends."""

    def save(self, use: AgreementUse) -> None: ...

    def forget(self, agreement_id: str) -> None: ...

    def holding(self, document_id: str) -> bool:
        """Whether an agreement still holds the document (``AgreementUse.holds``)."""

    def naming(self, document_id: str) -> bool:
        """Whether any agreement, held or released, names the document."""


class DocumentsUnitOfWork(UnitOfWork, Protocol):
    documents: DocumentRepository
    agreement_uses: AgreementUseRepository

    def erase_workspace(self, workspace_id: str) -> dict[str, int]:
        """Delete every row of the workspace, its key and its messages, and mark it deleted
        (``pactra_platform.erasure``); how many of each went."""

    def report_purged(self, event: Event[Any], counts: dict[str, int]) -> None:
        """Answer a workspace's deletion request with ``workspace.purged``."""


class SqlAlchemyDocumentsUnitOfWork(SqlAlchemyUnitOfWork):
    documents: SqlAlchemyDocumentRepository
    agreement_uses: SqlAlchemyAgreementUseRepository

    def _start(self) -> None:
        self.documents = SqlAlchemyDocumentRepository(self.session)
        self.agreement_uses = SqlAlchemyAgreementUseRepository(self.session)

    def erase_workspace(self, workspace_id: str) -> dict[str, int]:
        counts = erasure.begin_purge(self.session, workspace_id)
        return counts | erasure.purge_workspace_rows(self.session, workspace_id)

    def report_purged(self, event: Event[Any], counts: dict[str, int]) -> None:
        erasure.report_purged(self.session, event, SERVICE, counts)
