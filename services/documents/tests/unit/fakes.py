"""In-memory stand-ins for the documents service's unit of work and PDF probe (its bucket:
``pactra_devtools.fakes.FakeObjectStore``): the use cases and handlers run against these in unit
tests, with no database, broker or S3."""

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pactra_contracts.events import Event
from pactra_devtools import fakes
from pactra_documents.domain.errors import UnknownCursor
from pactra_documents.domain.model import AgreementUse, Document, Inspection, holds


class FakeDocumentRepository:
    def __init__(self) -> None:
        self.rows: dict[str, Document] = {}

    def add(self, document: Document) -> None:
        self.rows[document.id] = dataclasses.replace(document)

    def get(self, workspace_id: str, document_id: str, livemode: bool | None, *,
            lock: bool = False) -> Document | None:
        found = self.rows.get(document_id)
        if found is None or found.workspace_id != workspace_id or not found.visible_in(livemode):
            return None
        return dataclasses.replace(found)

    def newest(self, workspace_id: str, livemode: bool | None, limit: int,
               starting_after: str | None) -> list[Document]:
        mine = sorted((d for d in self.rows.values()
                       if d.workspace_id == workspace_id and d.visible_in(livemode)),
                      key=lambda d: (d.created_at, d.id), reverse=True)
        if starting_after:
            cursor = self.get(workspace_id, starting_after, livemode)
            if cursor is None:
                raise UnknownCursor(starting_after)
            mine = [d for d in mine if (d.created_at, d.id) < (cursor.created_at, cursor.id)]
        return mine[:limit]

    def of_workspace(self, workspace_id: str) -> Iterator[Document]:
        return iter(sorted((d for d in self.rows.values() if d.workspace_id == workspace_id),
                           key=lambda d: (d.created_at, d.id)))

    def remove(self, document: Document) -> None:
        del self.rows[document.id]


class FakeAgreementUseRepository:
    def __init__(self) -> None:
        self.rows: dict[str, AgreementUse] = {}

    def get(self, agreement_id: str) -> AgreementUse | None:
        found = self.rows.get(agreement_id)
        return None if found is None else dataclasses.replace(found)

    def save(self, use: AgreementUse) -> None:
        self.rows[use.agreement_id] = dataclasses.replace(use)

    def forget(self, agreement_id: str) -> None:
        self.rows.pop(agreement_id, None)

    def holding(self, document_id: str) -> bool:
        return holds(self.rows.values(), document_id)

    def naming(self, document_id: str) -> bool:
        return any(use.document_id == document_id for use in self.rows.values())


class FakeUnitOfWork(fakes.FakeUnitOfWork):
    """Repositories in dicts; a workspace's erasure and its report recorded."""

    def __init__(self) -> None:
        super().__init__()
        self.documents = FakeDocumentRepository()
        self.agreement_uses = FakeAgreementUseRepository()
        self.erased: list[str] = []
        self.reports: list[tuple[Event[Any], dict[str, int]]] = []

    def erase_workspace(self, workspace_id: str) -> dict[str, int]:
        self.erased.append(workspace_id)
        gone = [d for d in self.documents.rows.values() if d.workspace_id == workspace_id]
        for document in gone:
            self.documents.remove(document)
        return {"documents": len(gone)} if gone else {}

    def report_purged(self, event: Event[Any], counts: dict[str, int]) -> None:
        self.reports.append((event, counts))


class FakeProbe:
    """Answers every PDF with ``inspection`` and its text with ``text``."""

    def __init__(self, inspection: Inspection, text: bytes = b"page one\fpage two") -> None:
        self.inspection = inspection
        self.text = text
        self.inspected: list[Path] = []

    def inspect(self, pdf_path: Path, text_path: Path) -> Inspection:
        self.inspected.append(pdf_path)
        if self.inspection.verdict == "ok":
            text_path.write_bytes(self.text)
        return self.inspection

    def render_page(self, pdf_path: Path, page: int, png_path: Path) -> bool:
        png_path.write_bytes(b"\x89PNG page %d" % page)
        return True
