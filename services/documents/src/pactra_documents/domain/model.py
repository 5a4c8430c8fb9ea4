"""Documents and the agreements that hold them: the rules, in plain Python.

A document is an uploaded PDF: its metadata here, its bytes and extracted text encrypted in the
bucket under names derived from it. An agreement holds its document from its creation until
its evidence is settled (``AgreementUse``): the receipts service reads the original to stamp
and seal it after the agreement ended, so a document may be deleted only once no agreement
holds it any more.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .errors import InvalidListLimit, PageNotFound, Refused, UploadTooLarge

# An upload is a PDF when its magic stands within its first kilobyte (some producers put
# a few bytes of junk before it, and every reader accepts that).
PDF_MAGIC = b"%PDF-"
MAGIC_WINDOW = 1024
# A page of a list holds at most this many documents (api.md: lists take ?limit= 1..100).
MAX_LIST_LIMIT = 100
# What the PDF probe may answer (adapters/pdf_probe.py); only "ok" is accepted.
VERDICTS = ("ok", "invalid_pdf", "encrypted_pdf")


@dataclass(frozen=True)
class PageSize:
    """A page's box in PDF points, as displayed (after /Rotate): field geometry lies within it."""

    width: float
    height: float


@dataclass(frozen=True)
class Received:
    """An upload received onto disk: its bytes at ``path``, counted and hashed as they came."""

    path: Path
    size: int
    sha256: str
    filename: str | None


@dataclass(frozen=True)
class Inspection:
    """What the PDF probe found in an upload."""

    verdict: str  # one of VERDICTS
    pages: int = 0
    detail: str = ""
    # Each page's (width, height) in PDF points as displayed (after /Rotate), the box the
    # page image shows: signing places fields within it.
    page_sizes: tuple[tuple[float, float], ...] = ()


def is_pdf(head: bytes) -> bool:
    """Whether an upload whose first bytes are ``head`` is a PDF at all (before any parsing)."""
    return PDF_MAGIC in head[:MAGIC_WINDOW]


def check_declared_size(declared: int | None, limit: int) -> None:
    """Refuse an upload on its declared size alone, before a byte of its body is read."""
    if declared is not None and declared > limit:
        raise UploadTooLarge(limit)


def list_limit(raw: str) -> int:
    """How many documents a page of the list holds, as the request asked."""
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIST_LIMIT:
        raise InvalidListLimit(raw)
    return int(raw)


def accept(inspection: Inspection) -> None:
    """Refuse an upload the probe did not find to be a usable PDF (its verdict is the problem
    code, api.md)."""
    if inspection.verdict != "ok":
        raise Refused(inspection.verdict, inspection.detail or "The PDF cannot be used.")


@dataclass
class Document:
    id: str
    workspace_id: str
    filename: str
    size: int
    sha256: str
    pages: int
    # None for a document uploaded before sizes were recorded.
    page_sizes: tuple[PageSize, ...] | None
    created_at: datetime
    # False when uploaded with a test key (api.md, "Test mode"): seen only by test keys.
    livemode: bool = True

    @classmethod
    def accepted(cls, document_id: str, workspace_id: str, filename: str, received: Received,
                 inspection: Inspection, created_at: datetime, *, livemode: bool) -> "Document":
        """The document an upload makes, once the probe accepted it."""
        accept(inspection)
        sizes = tuple(PageSize(width, height) for width, height in inspection.page_sizes)
        return cls(id=document_id, workspace_id=workspace_id, filename=filename,
                   size=received.size, sha256=received.sha256, pages=inspection.pages,
                   page_sizes=sizes or None, created_at=created_at, livemode=livemode)

    def visible_in(self, livemode: bool | None) -> bool:
        """Test and live documents never mix (api.md, "Test mode"); None: either (a service
        calling as itself, for an agreement it already holds)."""
        return livemode is None or self.livemode == livemode

    def check_page(self, page: int) -> None:
        """Pages are numbered from 1; a page beyond the document is not found."""
        if not 1 <= page <= self.pages:
            raise PageNotFound(self.id, page)

    # Every object of a document is named under its workspace, then its own id: a workspace's
    # purge deletes them by the first prefix, a document's by the second.

    @property
    def prefix(self) -> str:
        return f"{self.workspace_id}/{self.id}/"

    @property
    def content_name(self) -> str:
        """The original PDF, byte for byte as uploaded."""
        return f"{self.prefix}original.pdf"

    @property
    def text_name(self) -> str:
        """Its extracted text, UTF-8, pages joined by a form feed."""
        return f"{self.prefix}text.txt"

    def page_name(self, page: int) -> str:
        """The cached image of a page: encrypted like every object, gone with the document."""
        return f"{self.prefix}pages/{page}.png"

    def object_names(self) -> list[str]:
        """Every object the document may have: original, text, and each page's image."""
        return [self.content_name, self.text_name,
                *(self.page_name(page) for page in range(1, self.pages + 1))]


def workspace_prefix(workspace_id: str) -> str:
    """The names of every object of a workspace begin with this (``Document.prefix``)."""
    return f"{workspace_id}/"


@dataclass
class AgreementUse:
    """One agreement's hold on a document, learnt from ``agreement.*`` and ``receipt.*`` events.

    Keyed by agreement so the events may arrive in any order: a release that overtakes the
    creation leaves a use with ``ended`` set, which the creation then fills in.
    """

    agreement_id: str
    workspace_id: str | None = None
    document_id: str | None = None
    # Released: the agreement's evidence is settled (receipt.issued, or a receipt.failed not
    # retried by itself), so the document may be deleted.
    ended: bool = False

    def created(self, document_id: str, workspace_id: str | None) -> None:
        self.document_id = document_id
        self.workspace_id = workspace_id
        # A release that overtook the creation has already set ``ended``; it stays set.

    def noted(self, workspace_id: str | None) -> None:
        """An event about the agreement that names its workspace, whatever came first."""
        if self.workspace_id is None:
            self.workspace_id = workspace_id

    def release(self, workspace_id: str | None) -> None:
        self.ended = True
        self.noted(workspace_id)

    @property
    def holds(self) -> bool:
        return self.document_id is not None and not self.ended


def holds(uses: Iterable[AgreementUse], document_id: str) -> bool:
    """Whether any of ``uses`` still holds the document (it may not be deleted then)."""
    return any(use.holds and use.document_id == document_id for use in uses)
