"""Page images in process: the render slots bound how many pages render at once, and a page
asked for by many at once renders once (the real probe, in its sandbox; the bucket and the
database are fakes)."""

import threading
from datetime import UTC, datetime

import pytest

from pactra_devtools.fakes import FakeObjectStore
from pactra_devtools.testing import shared_data
from pactra_documents.adapters import pdf_probe
from pactra_documents.config import DocumentsSettings
from pactra_documents.domain.errors import RenderBusy
from pactra_documents.domain.model import Document
from pactra_documents.service_layer.pages import PageImages

from .fakes import FakeUnitOfWork

FOUR_PAGES = shared_data("pdfs", "pysample__004-pdflatex-4-pages__pdflatex-4-pages.pdf")
RENDERS_AT_ONCE = DocumentsSettings.model_fields["page_renders_at_once"].default


class OneDocument:
    """The page images of one document, in a fake bucket."""

    def __init__(self) -> None:
        self.uow = FakeUnitOfWork()
        self.document = Document(id="doc_x", workspace_id="ws_x", filename="x.pdf", size=1,
                                 sha256="0", pages=4, page_sizes=None, created_at=datetime.now(UTC))
        self.uow.documents.add(self.document)
        self.store = FakeObjectStore()
        self.store.put(self.document.content_name, [FOUR_PAGES.read_bytes()])
        self.pages = PageImages(self.store, pdf_probe, renders_at_once=RENDERS_AT_ONCE,
                                slot_wait_seconds=10.0, render_seconds=pdf_probe.WALL_SECONDS + 5)

    def page_png(self, workspace_id: str, document_id: str, page: int) -> bytes:
        return self.pages.png(self.uow, workspace_id, document_id, page)


@pytest.fixture
def one_document() -> OneDocument:
    return OneDocument()


def test_renders_beyond_the_slots_are_refused_not_queued(one_document: OneDocument) -> None:
    # A request waits this long for a slot, then is refused (the service waits 10 s).
    one_document.pages.slot_wait_seconds = 0.2
    slots = one_document.pages.slots
    for _ in range(RENDERS_AT_ONCE):
        assert slots.acquire(blocking=False)
    try:
        with pytest.raises(RenderBusy):
            one_document.page_png("ws_x", "doc_x", 1)
    finally:
        for _ in range(RENDERS_AT_ONCE):
            slots.release()
    png = one_document.page_png("ws_x", "doc_x", 1)
    assert png.startswith(b"\x89PNG")
    assert one_document.store.objects[one_document.document.page_name(1)] == png


def test_concurrent_requests_for_one_page_render_it_once(one_document: OneDocument,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = one_document.pages._render

    def counted(document: Document, page: int) -> bytes:
        calls.append(page)
        return real(document, page)

    monkeypatch.setattr(one_document.pages, "_render", counted)
    results: list[bytes] = []
    threads = [threading.Thread(target=lambda: results.append(
        one_document.page_png("ws_x", "doc_x", 2))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert calls == [2]
    assert len(results) == 4 and len(set(results)) == 1
