"""Documents: accept an upload, keep it encrypted, serve it back, delete it when unused."""

import logging
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import Counter
from pydantic import BaseModel
from sqlalchemy import ColumnElement, select, true, tuple_
from sqlalchemy.orm import sessionmaker

from pactra_contracts.events import Actor, DocumentDeleted, DocumentUploaded, UsageRecorded, make_event
from pactra_contracts.ids import new_id
from pactra_contracts.times import UtcTime, utcnow
from pactra_platform.objects import EncryptedObjectStore, ObjectCorrupt, ObjectMissing
from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork

from . import pdf_probe
from .intake import Received
from .models import AgreementUse, Document

log = logging.getLogger(__name__)

SERVICE = "documents"
PDF_MAGIC = b"%PDF-"
MAGIC_WINDOW = 1024
READ_CHUNK = 256 * 1024
# Page images rendered at once per API process. A request beyond that waits briefly for a slot
# (the signer page asks for every page at once, and a page renders in a fraction of a second),
# then is told to come back (503 + Retry-After) rather than queued without bound.
RENDERS_AT_ONCE = 2
RENDER_SLOT_WAIT_SECONDS = 10.0
RENDERS = Counter("pactra_documents_page_renders",
                  "Page images rendered (a page served from its cached image is not counted)",
                  ["outcome"])


class NotFound(Exception):
    pass


class InUse(Exception):
    pass


class RenderBusy(Exception):
    """Every render slot of this process is taken; the client should retry shortly."""


class RenderFailed(Exception):
    """The page cannot be rendered; ``retry`` when trying again later may succeed (timeout)."""

    def __init__(self, detail: str, *, retry: bool) -> None:
        super().__init__(detail)
        self.retry = retry


class Refused(Exception):
    """An upload the API refuses; ``code`` is the problem code (api.md)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


class PageSize(BaseModel):
    """A page's box in PDF points, as displayed (after /Rotate): field geometry lies within it."""

    width: float
    height: float


class DocumentOut(BaseModel):
    id: str
    filename: str
    size: int
    sha256: str
    pages: int
    page_sizes: list[PageSize] | None
    created_at: UtcTime
    # False when uploaded with a test key (api.md, "Test mode").
    livemode: bool = True


class DocumentList(BaseModel):
    data: list[DocumentOut]
    has_more: bool
    next_cursor: str | None


@dataclass(frozen=True)
class Context:
    """Who asked, for the events a change causes."""

    request_id: str | None
    actor: Actor


def document_out(document: Document) -> DocumentOut:
    return DocumentOut(id=document.id, filename=document.filename, size=document.size,
                       sha256=document.sha256, pages=document.pages,
                       page_sizes=(None if document.page_sizes is None else
                                   [PageSize(width=w, height=h) for w, h in document.page_sizes]),
                       created_at=document.created_at, livemode=document.livemode)


def _of_mode(livemode: bool | None) -> ColumnElement[bool]:
    """Test and live documents never mix (api.md, "Test mode"); None: either (a service
    calling as itself, for an agreement it already holds)."""
    return true() if livemode is None else Document.livemode == livemode


def content_name(document: Document) -> str:
    return f"{document.workspace_id}/{document.id}/original.pdf"


def text_name(document: Document) -> str:
    return f"{document.workspace_id}/{document.id}/text.txt"


def page_name(document: Document, page: int) -> str:
    """The cached image of a page: encrypted like every object, gone with the document."""
    return f"{document.workspace_id}/{document.id}/pages/{page}.png"


def read_file(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as source:
        while chunk := source.read(READ_CHUNK):
            yield chunk


def _storage_used(workspace_id: str, change: int, source_id: str, context: Context,
                  livemode: bool = True):
    return make_event("usage.recorded", UsageRecorded(
        workspace_id=workspace_id, metric="storage_bytes", quantity=change,
        source_event_id=source_id, occurred_at=utcnow(), livemode=livemode),
        producer=SERVICE, workspace_id=workspace_id, correlation_id=context.request_id)


class Documents:
    def __init__(self, sessions: sessionmaker, store: EncryptedObjectStore) -> None:
        self._sessions = sessions
        self.store = store
        self._render_slots = threading.BoundedSemaphore(RENDERS_AT_ONCE)
        self.render_slot_wait = RENDER_SLOT_WAIT_SECONDS
        # Pages being rendered now, so that a second request for one waits for that render
        # instead of starting its own.
        self._rendering: dict[str, threading.Event] = {}
        self._rendering_lock = threading.Lock()

    def uow(self) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(self._sessions)

    # --- upload ---------------------------------------------------------------------------

    def upload(self, workspace_id: str, received: Received, filename: str,
               context: Context, *, livemode: bool = True) -> DocumentOut:
        with open(received.path, "rb") as head:
            if PDF_MAGIC not in head.read(MAGIC_WINDOW):
                raise Refused("unsupported_media_type", "The file is not a PDF.")
        text_path = received.path.with_name("text.txt")
        inspection = pdf_probe.inspect(received.path, text_path)
        if inspection.verdict != "ok":
            raise Refused(inspection.verdict, inspection.detail or "The PDF cannot be used.")
        document = Document(id=new_id("doc"), workspace_id=workspace_id, filename=filename,
                            size=received.size, sha256=received.sha256,
                            pages=inspection.pages,
                            page_sizes=[list(size) for size in inspection.page_sizes] or None,
                            created_at=utcnow(), livemode=livemode)
        # The gateway reserved this upload's storage under "upload:<request id>" before it
        # forwarded it (402 on a blocking plan with no room left); this event, with the exact
        # size, confirms it (pactra_gateway.quota_gate).
        stored_as = f"upload:{context.request_id}" if context.request_id else f"{document.id}:stored"
        self.store.put(content_name(document), read_file(received.path), workspace_id=workspace_id)
        self.store.put(text_name(document), read_file(text_path), workspace_id=workspace_id)
        with self.uow() as uow:
            uow.session.add(document)
            uow.publish(_storage_used(workspace_id, document.size, stored_as, context, livemode))
            uow.publish(make_event(
                "document.uploaded",
                DocumentUploaded(document_id=document.id, sha256=document.sha256,
                                 size=document.size, pages=document.pages,
                                 filename=document.filename, livemode=document.livemode),
                producer=SERVICE, workspace_id=workspace_id,
                correlation_id=context.request_id, actor=context.actor))
            uow.commit()
        return document_out(document)

    # --- reading --------------------------------------------------------------------------

    def get(self, workspace_id: str, document_id: str, livemode: bool | None = None) -> Document:
        """The workspace's document; with ``livemode``, only one of that mode (a key of the
        other mode gets 404)."""
        with self.uow() as uow:
            document = uow.session.scalar(select(Document).where(
                Document.id == document_id, Document.workspace_id == workspace_id,
                _of_mode(livemode)))
            if document is None:
                raise NotFound(document_id)
            uow.session.expunge(document)
            return document

    def list(self, workspace_id: str, *, limit: int,
             starting_after: str | None, livemode: bool | None = None) -> DocumentList:
        with self.uow() as uow:
            query = select(Document).where(Document.workspace_id == workspace_id, _of_mode(livemode))
            if starting_after:
                cursor = uow.session.execute(
                    select(Document.created_at, Document.id).where(
                        Document.id == starting_after, Document.workspace_id == workspace_id,
                        _of_mode(livemode))
                ).first()
                if cursor is None:
                    raise NotFound(starting_after)
                query = query.where(
                    tuple_(Document.created_at, Document.id) < tuple_(cursor[0], cursor[1]))
            rows = list(uow.session.scalars(
                query.order_by(Document.created_at.desc(), Document.id.desc()).limit(limit + 1)))
            page = [document_out(row) for row in rows[:limit]]
        has_more = len(rows) > limit
        return DocumentList(data=page, has_more=has_more,
                            next_cursor=page[-1].id if has_more and page else None)

    def content(self, workspace_id: str, document_id: str,
                livemode: bool | None = None) -> tuple[Document, Iterator[bytes]]:
        document = self.get(workspace_id, document_id, livemode)
        return document, self.store.get(content_name(document))

    def text(self, workspace_id: str, document_id: str,
             livemode: bool | None = None) -> Iterator[bytes]:
        document = self.get(workspace_id, document_id, livemode)
        return self.store.get(text_name(document))

    def page_png(self, workspace_id: str, document_id: str, page: int,
                 livemode: bool | None = None) -> bytes:
        """Page ``page`` (1-based) as PNG; ``NotFound`` when the document has no such page.

        Each page is rendered once and its image kept (encrypted) beside the document;
        ``RenderBusy`` when this process renders all it may at once, ``RenderFailed`` when
        the page cannot be rendered."""
        document = self.get(workspace_id, document_id, livemode)
        if not 1 <= page <= document.pages:
            raise NotFound(f"{document_id} page {page}")
        name = page_name(document, page)
        cached = self._cached(name)
        if cached is not None:
            return cached
        with self._rendering_lock:
            underway = self._rendering.get(name)
            if underway is None:
                mine = self._rendering[name] = threading.Event()
        if underway is not None:
            underway.wait(pdf_probe.WALL_SECONDS + 5)
            cached = self._cached(name)
            if cached is None:
                raise RenderBusy(name)
            return cached
        try:
            if not self._render_slots.acquire(timeout=self.render_slot_wait):
                RENDERS.labels("busy").inc()
                raise RenderBusy(name)
            try:
                png = self._render(document, page)
            finally:
                self._render_slots.release()
            self.store.put(name, [png], workspace_id=document.workspace_id)
            return png
        finally:
            with self._rendering_lock:
                del self._rendering[name]
            mine.set()

    def _cached(self, name: str) -> bytes | None:
        try:
            return b"".join(self.store.get(name))
        except ObjectMissing:
            return None
        except ObjectCorrupt:
            log.warning("cached page image %s does not decrypt; rendering it again", name)
            return None

    def _render(self, document: Document, page: int) -> bytes:
        with tempfile.TemporaryDirectory(prefix="pactra-render-") as workdir:
            pdf_path, png_path = Path(workdir) / "document.pdf", Path(workdir) / "page.png"
            with open(pdf_path, "wb") as out:
                for chunk in self.store.get(content_name(document)):
                    out.write(chunk)
            try:
                rendered = pdf_probe.render_page(pdf_path, page, png_path)
            except pdf_probe.RenderFailed as error:
                timed_out = isinstance(error, pdf_probe.RenderTimeout)
                RENDERS.labels("timeout" if timed_out else "failed").inc()
                log.warning("page %d of %s not rendered: %s", page, document.id, error)
                raise RenderFailed(str(error), retry=timed_out) from error
            if not rendered:
                raise NotFound(f"{document.id} page {page}")
            RENDERS.labels("rendered").inc()
            log.info("rendered page %d of %s", page, document.id)
            return png_path.read_bytes()

    # --- deleting -------------------------------------------------------------------------

    def delete(self, workspace_id: str, document_id: str, context: Context,
               livemode: bool | None = None) -> None:
        with self.uow() as uow:
            document = uow.session.scalar(select(Document).where(
                Document.id == document_id, Document.workspace_id == workspace_id,
                _of_mode(livemode),
            ).with_for_update())
            if document is None:
                raise NotFound(document_id)
            if in_use(uow, document_id):
                raise InUse(document_id)
            remove(uow, document, context)
            uow.commit()
        delete_objects(self.store, document)


def remove(uow: SqlAlchemyUnitOfWork, document: Document, context: Context) -> None:
    """Delete the document's row and say so (its analyses go on ``document.deleted``); the
    caller commits, then deletes its objects (``delete_objects``)."""
    uow.session.delete(document)
    uow.publish(make_event(
        "document.deleted", DocumentDeleted(document_id=document.id, livemode=document.livemode),
        producer=SERVICE, workspace_id=document.workspace_id,
        correlation_id=context.request_id, actor=context.actor))
    # Deleting gives the storage back (never refused: quotas never block deletion).
    uow.publish(_storage_used(document.workspace_id, -document.size, f"{document.id}:deleted",
                              context, document.livemode))


def delete_objects(store: EncryptedObjectStore, document: Document) -> int:
    pages = [page_name(document, page) for page in range(1, document.pages + 1)]
    deleted = 0
    for name in (content_name(document), text_name(document), *pages):
        # The row is gone, so nothing can reach these objects: a failure only leaves
        # unreadable ciphertext behind, which the log records for clean-up.
        try:
            store.delete(name)
            deleted += 1
        except Exception:
            log.exception("could not delete object %s", name)
    return deleted


def in_use(uow: SqlAlchemyUnitOfWork, document_id: str) -> bool:
    return uow.session.scalar(select(AgreementUse.agreement_id).where(
        AgreementUse.document_id == document_id, AgreementUse.ended.is_(False)).limit(1)
    ) is not None
