"""Documents: accept an upload, keep it encrypted, serve it back, delete it when unused."""

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pactra_contracts.events import Actor, DocumentDeleted, DocumentUploaded, Event, UsageRecorded, make_event
from pactra_contracts.ids import new_id
from pactra_contracts.resources import Document as DocumentOut
from pactra_contracts.resources import DocumentList, PageSize
from pactra_contracts.times import utcnow
from pactra_platform.objects import ObjectMissing

from .. import SERVICE
from ..domain import model
from ..domain.errors import InUse, NotFound, Refused
from ..domain.model import Document, Received
from .ports import ObjectStore, PdfProbe
from .unit_of_work import DocumentsUnitOfWork

log = logging.getLogger(__name__)

READ_CHUNK = 256 * 1024


@dataclass(frozen=True)
class Context:
    """Who asked, for the events a change causes."""

    request_id: str | None
    actor: Actor


def document_out(document: Document) -> DocumentOut:
    """The document as the API shows it (and an export's metadata.json)."""
    return DocumentOut(id=document.id, filename=document.filename, size=document.size,
                       sha256=document.sha256, pages=document.pages,
                       # Points as floats, as the API has always written them (72.0, never 72).
                       page_sizes=(None if document.page_sizes is None else
                                   [PageSize(width=float(size.width), height=float(size.height))
                                    for size in document.page_sizes]),
                       created_at=document.created_at, livemode=document.livemode)


def read_file(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as source:
        while chunk := source.read(READ_CHUNK):
            yield chunk


def _storage_used(workspace_id: str, change: int, source_id: str, context: Context,
                  livemode: bool = True) -> Event[UsageRecorded]:
    return make_event("usage.recorded", UsageRecorded(
        workspace_id=workspace_id, metric="storage_bytes", quantity=change,
        source_event_id=source_id, occurred_at=utcnow(), livemode=livemode),
        producer=SERVICE, workspace_id=workspace_id, correlation_id=context.request_id)


# --- upload -------------------------------------------------------------------------------


def upload(uow: DocumentsUnitOfWork, store: ObjectStore, probe: PdfProbe, workspace_id: str,
           received: Received, filename: str, context: Context, *, livemode: bool = True) -> Document:
    """Keep an upload received onto disk, once it proved a usable PDF (``Refused`` if not)."""
    with open(received.path, "rb") as head:
        if not model.is_pdf(head.read(model.MAGIC_WINDOW)):
            raise Refused("unsupported_media_type", "The file is not a PDF.")
    text_path = received.path.with_name("text.txt")
    document = Document.accepted(new_id("doc"), workspace_id, filename, received,
                                 probe.inspect(received.path, text_path), utcnow(),
                                 livemode=livemode)
    # The gateway reserved this upload's storage under "upload:<request id>" before it
    # forwarded it (402 on a blocking plan with no room left); this event, with the exact
    # size, confirms it (pactra_gateway.quota_gate).
    stored_as = f"upload:{context.request_id}" if context.request_id else f"{document.id}:stored"
    store.put(document.content_name, read_file(received.path), workspace_id=workspace_id)
    store.put(document.text_name, read_file(text_path), workspace_id=workspace_id)
    with uow:
        uow.documents.add(document)
        uow.publish(_storage_used(workspace_id, document.size, stored_as, context, livemode))
        uow.publish(make_event(
            "document.uploaded",
            DocumentUploaded(document_id=document.id, sha256=document.sha256,
                             size=document.size, pages=document.pages,
                             filename=document.filename, livemode=document.livemode),
            producer=SERVICE, workspace_id=workspace_id,
            correlation_id=context.request_id, actor=context.actor))
        uow.commit()
    return document


# --- reading ------------------------------------------------------------------------------


def get(uow: DocumentsUnitOfWork, workspace_id: str, document_id: str,
        livemode: bool | None = None) -> Document:
    """The workspace's document; with ``livemode``, only one of that mode (a key of the
    other mode gets 404)."""
    with uow:
        document = uow.documents.get(workspace_id, document_id, livemode)
    if document is None:
        raise NotFound(document_id)
    return document


def list_documents(uow: DocumentsUnitOfWork, workspace_id: str, *, limit: int,
                   starting_after: str | None, livemode: bool | None = None) -> DocumentList:
    with uow:
        # One more than asked: whether it comes says whether there are more.
        rows = uow.documents.newest(workspace_id, livemode, limit + 1, starting_after)
    page = [document_out(row) for row in rows[:limit]]
    has_more = len(rows) > limit
    return DocumentList(data=page, has_more=has_more,
                        next_cursor=page[-1].id if has_more and page else None)


def content(uow: DocumentsUnitOfWork, store: ObjectStore, workspace_id: str, document_id: str,
            livemode: bool | None = None) -> tuple[Document, Iterator[bytes]]:
    document = get(uow, workspace_id, document_id, livemode)
    return document, _object(store, document, document.content_name)


def text(uow: DocumentsUnitOfWork, store: ObjectStore, workspace_id: str, document_id: str,
         livemode: bool | None = None) -> Iterator[bytes]:
    document = get(uow, workspace_id, document_id, livemode)
    return _object(store, document, document.text_name)


def _object(store: ObjectStore, document: Document, name: str) -> Iterator[bytes]:
    try:
        return store.get(name)
    except ObjectMissing as error:  # the row outlived its objects: as good as gone
        raise NotFound(document.id) from error


# --- deleting -----------------------------------------------------------------------------


def delete(uow: DocumentsUnitOfWork, store: ObjectStore, workspace_id: str, document_id: str,
           context: Context, livemode: bool | None = None) -> None:
    with uow:
        document = uow.documents.get(workspace_id, document_id, livemode, lock=True)
        if document is None:
            raise NotFound(document_id)
        if uow.agreement_uses.holding(document_id):
            raise InUse(document_id)
        remove(uow, document, context)
        uow.commit()
    delete_objects(store, document)


def remove(uow: DocumentsUnitOfWork, document: Document, context: Context) -> None:
    """Delete the document's row and say so (its analyses go on ``document.deleted``); the
    caller commits, then deletes its objects (``delete_objects``)."""
    uow.documents.remove(document)
    uow.publish(make_event(
        "document.deleted", DocumentDeleted(document_id=document.id, livemode=document.livemode),
        producer=SERVICE, workspace_id=document.workspace_id,
        correlation_id=context.request_id, actor=context.actor))
    # Deleting gives the storage back (never refused: quotas never block deletion).
    uow.publish(_storage_used(document.workspace_id, -document.size, f"{document.id}:deleted",
                              context, document.livemode))


def delete_objects(store: ObjectStore, document: Document) -> int:
    deleted = 0
    for name in document.object_names():
        # The row is gone, so nothing can reach these objects: a failure only leaves
        # unreadable ciphertext behind, which the log records for clean-up.
        try:
            store.delete(name)
            deleted += 1
        except Exception:
            log.exception("could not delete object %s", name)
    return deleted
