"""The documents service's composition root: the one place that reads its settings and knows
its concrete dependencies (database, bucket, PDF probe); the API (``entrypoints/app.py``) and
the worker (``entrypoints/worker.py``) are built from what :func:`bootstrap` returns."""

from dataclasses import dataclass

from sqlalchemy.orm import sessionmaker

from pactra_platform.db import session_factory
from pactra_platform.objects import EncryptedObjectStore

from . import SERVICE
from .adapters import pdf_probe
from .config import DocumentsSettings
from .service_layer.pages import PageImages
from .service_layer.ports import PdfProbe
from .service_layer.unit_of_work import SqlAlchemyDocumentsUnitOfWork

# A request for a page that another request is rendering waits for that render this long at
# the most: the probe's own wall-clock limit, and a little for the image to be stored.
RENDER_SECONDS = pdf_probe.WALL_SECONDS + 5


@dataclass
class Documents:
    """The service as assembled: what its entrypoints hand to the service layer."""

    settings: DocumentsSettings
    sessions: sessionmaker
    store: EncryptedObjectStore
    probe: PdfProbe
    pages: PageImages

    def uow(self) -> SqlAlchemyDocumentsUnitOfWork:
        return SqlAlchemyDocumentsUnitOfWork(self.sessions)


def bootstrap(settings: DocumentsSettings | None = None) -> Documents:
    settings = settings or DocumentsSettings()
    sessions = session_factory(settings, SERVICE)
    # With the service's sessions: objects are sealed under their workspace's key, kept in
    # its keyring (crypto-shredding, pactra_platform.erasure).
    store = EncryptedObjectStore(settings, SERVICE, sessions)
    pages = PageImages(store, pdf_probe, renders_at_once=settings.page_renders_at_once,
                       slot_wait_seconds=settings.page_render_slot_wait_seconds,
                       render_seconds=RENDER_SECONDS)
    return Documents(settings=settings, sessions=sessions, store=store, probe=pdf_probe, pages=pages)
