"""The documents service's repositories over its tables (``orm.py``): they read rows into the
domain's entities and write the entities back as rows."""

from collections.abc import Iterator
from dataclasses import asdict, fields
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, select, true, tuple_
from sqlalchemy.orm import Session

from ..domain.errors import UnknownCursor
from ..domain.model import AgreementUse, Document, PageSize
from .orm import AgreementUseRow, DocumentRow


def _document(row: DocumentRow) -> Document:
    values: dict[str, Any] = {field.name: getattr(row, field.name) for field in fields(Document)}
    # Stored as [[width, height], ...] (JSON has no tuples).
    sizes = row.page_sizes
    values["page_sizes"] = None if sizes is None else tuple(PageSize(w, h) for w, h in sizes)
    return Document(**values)


def _row(document: Document) -> DocumentRow:
    values = asdict(document)
    sizes = document.page_sizes
    values["page_sizes"] = None if sizes is None else [[size.width, size.height] for size in sizes]
    return DocumentRow(**values)


def _of_mode(livemode: bool | None) -> ColumnElement[bool]:
    """``Document.visible_in`` as SQL."""
    return true() if livemode is None else DocumentRow.livemode == livemode


class SqlAlchemyDocumentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _of(self, workspace_id: str, livemode: bool | None) -> Select[DocumentRow]:
        return select(DocumentRow).where(DocumentRow.workspace_id == workspace_id, _of_mode(livemode))

    def add(self, document: Document) -> None:
        self.session.add(_row(document))

    def get(self, workspace_id: str, document_id: str, livemode: bool | None, *,
            lock: bool = False) -> Document | None:
        query = self._of(workspace_id, livemode).where(DocumentRow.id == document_id)
        row = self.session.scalar(query.with_for_update() if lock else query)
        return None if row is None else _document(row)

    def newest(self, workspace_id: str, livemode: bool | None, limit: int,
               starting_after: str | None) -> list[Document]:
        query = self._of(workspace_id, livemode)
        if starting_after:
            cursor = self.session.execute(
                select(DocumentRow.created_at, DocumentRow.id).where(
                    DocumentRow.id == starting_after, DocumentRow.workspace_id == workspace_id,
                    _of_mode(livemode))
            ).first()
            if cursor is None:
                raise UnknownCursor(starting_after)
            query = query.where(
                tuple_(DocumentRow.created_at, DocumentRow.id) < tuple_(cursor[0], cursor[1]))
        rows = self.session.scalars(
            query.order_by(DocumentRow.created_at.desc(), DocumentRow.id.desc()).limit(limit))
        return [_document(row) for row in rows]

    def of_workspace(self, workspace_id: str) -> Iterator[Document]:
        rows = self.session.scalars(self._of(workspace_id, None)
                                    .order_by(DocumentRow.created_at, DocumentRow.id)
                                    .execution_options(yield_per=200))
        return (_document(row) for row in rows)

    def remove(self, document: Document) -> None:
        self.session.execute(delete(DocumentRow).where(DocumentRow.id == document.id))


class SqlAlchemyAgreementUseRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, agreement_id: str) -> AgreementUse | None:
        row = self.session.get(AgreementUseRow, agreement_id, with_for_update=True)
        return None if row is None else AgreementUse(**{
            field.name: getattr(row, field.name) for field in fields(AgreementUse)})

    def save(self, use: AgreementUse) -> None:
        # The row read by get() is in the session: merge updates it; a new use is inserted.
        self.session.merge(AgreementUseRow(**asdict(use)))

    def forget(self, agreement_id: str) -> None:
        self.session.execute(delete(AgreementUseRow).where(AgreementUseRow.agreement_id == agreement_id))

    def holding(self, document_id: str) -> bool:
        return self._any(AgreementUseRow.document_id == document_id, AgreementUseRow.ended.is_(False))

    def naming(self, document_id: str) -> bool:
        return self._any(AgreementUseRow.document_id == document_id)

    def _any(self, *conditions: ColumnElement[bool]) -> bool:
        return self.session.scalar(
            select(AgreementUseRow.agreement_id).where(*conditions).limit(1)) is not None
