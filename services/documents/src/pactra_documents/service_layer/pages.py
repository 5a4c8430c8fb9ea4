"""Page images: each page of a document rendered once (in the PDF probe's sandbox) and kept,
encrypted, beside it; bounded in how many render at once."""

import logging
import tempfile
import threading
from pathlib import Path

from prometheus_client import Counter

from pactra_platform.objects import ObjectCorrupt, ObjectMissing

from ..domain.errors import NotFound, PageNotFound, RenderBusy, RenderFailed
from ..domain.model import Document
from . import documents
from .ports import ObjectStore, PdfProbe
from .unit_of_work import DocumentsUnitOfWork

log = logging.getLogger(__name__)

RENDERS = Counter("pactra_documents_page_renders",
                  "Page images rendered (a page served from its cached image is not counted)",
                  ["outcome"])


class PageImages:
    """One per API process: the render slots are the process's.

    ``renders_at_once`` pages render at once; a request beyond that waits up to
    ``slot_wait_seconds`` for a slot (the signer page asks for every page at once, and a page
    renders in a fraction of a second), then is told to come back (``RenderBusy``: 503 +
    Retry-After) rather than queued without bound. A request for a page another request is
    rendering waits up to ``render_seconds`` for that render instead of starting its own."""

    def __init__(self, store: ObjectStore, probe: PdfProbe, *, renders_at_once: int,
                 slot_wait_seconds: float, render_seconds: float) -> None:
        self.store = store
        self.probe = probe
        self.slots = threading.BoundedSemaphore(renders_at_once)
        self.slot_wait_seconds = slot_wait_seconds
        self.render_seconds = render_seconds
        self._rendering: dict[str, threading.Event] = {}
        self._rendering_lock = threading.Lock()

    def png(self, uow: DocumentsUnitOfWork, workspace_id: str, document_id: str, page: int,
            livemode: bool | None = None) -> bytes:
        """Page ``page`` (1-based) as PNG; ``PageNotFound`` when the document has no such page,
        ``RenderBusy`` when this process renders all it may at once, ``RenderFailed`` when the
        page cannot be rendered."""
        try:
            document = documents.get(uow, workspace_id, document_id, livemode)
        except NotFound as error:
            raise PageNotFound(document_id, page) from error
        document.check_page(page)
        name = document.page_name(page)
        cached = self._cached(name)
        if cached is not None:
            return cached
        with self._rendering_lock:
            underway = self._rendering.get(name)
            if underway is None:
                mine = self._rendering[name] = threading.Event()
        if underway is not None:
            underway.wait(self.render_seconds)
            cached = self._cached(name)
            if cached is None:
                raise RenderBusy(name)
            return cached
        try:
            if not self.slots.acquire(timeout=self.slot_wait_seconds):
                RENDERS.labels("busy").inc()
                raise RenderBusy(name)
            try:
                png = self._render(document, page)
            finally:
                self.slots.release()
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
            try:
                with open(pdf_path, "wb") as out:
                    for chunk in self.store.get(document.content_name):
                        out.write(chunk)
                rendered = self.probe.render_page(pdf_path, page, png_path)
            except ObjectMissing as error:
                raise PageNotFound(document.id, page) from error
            except RenderFailed as error:
                RENDERS.labels("timeout" if error.retry else "failed").inc()
                log.warning("page %d of %s not rendered: %s", page, document.id, error)
                raise
            if not rendered:
                raise PageNotFound(document.id, page)
            RENDERS.labels("rendered").inc()
            log.info("rendered page %d of %s", page, document.id)
            return png_path.read_bytes()
