"""Purging a deleted workspace's documents (api.md, "Deletion and retention"): their rows,
their objects (originals, extracted text, cached page images), the marker, the key."""

import logging
from functools import lru_cache

from sqlalchemy import delete, select

from pactra_contracts.events import AgreementPurged, Event
from pactra_platform import erasure
from pactra_platform.db import session_factory
from pactra_platform.objects import EncryptedObjectStore
from pactra_platform.settings import get_settings
from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork

from .documents import Context, remove
from .models import AgreementUse, Document

SERVICE = "documents"
log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def object_store() -> EncryptedObjectStore:
    settings = get_settings()
    return EncryptedObjectStore(settings, SERVICE, session_factory(settings, SERVICE))


def on_deletion_requested(event: Event, uow: SqlAlchemyUnitOfWork) -> None:
    request = erasure.purge_request(event)
    counts = erasure.begin_purge(uow.session, request.workspace_id)
    counts |= erasure.purge_workspace_rows(uow.session, request.workspace_id)
    # Every object of a workspace is named under its id (documents.content_name and the like).
    # Deleted before the commit: should the commit fail, the redelivery deletes what is left.
    counts["objects"] = object_store().delete_prefix(f"{request.workspace_id}/")
    erasure.report_purged(uow.session, event, SERVICE, counts)


def on_agreement_purged(event: Event, uow: SqlAlchemyUnitOfWork) -> None:
    """Signing purged an agreement (retention, or an early delete): it no longer holds its
    document, and an ended one takes the document along unless another agreement (live,
    ended or a draft) still names it. Its analyses go on ``document.deleted`` (ai)."""
    data = event.payload()
    assert isinstance(data, AgreementPurged)
    session = uow.session
    session.execute(delete(AgreementUse).where(AgreementUse.agreement_id == data.agreement_id))
    if not data.purge_document or event.workspace_id is None:
        return
    document = session.scalar(select(Document).where(
        Document.id == data.document_id, Document.workspace_id == event.workspace_id)
        .with_for_update())
    if document is None:
        return  # already gone (a redelivery, or deleted by its owner)
    other = session.scalar(select(AgreementUse.agreement_id).where(
        AgreementUse.document_id == document.id).limit(1))
    if other is not None:
        log.info("purged agreement's document kept: another agreement uses it",
                 extra={"agreement_id": data.agreement_id, "document_id": document.id})
        return
    remove(uow, document, Context(request_id=event.correlation_id, actor=event.actor))
    # Deleted before the commit: should the commit fail, the redelivery finds the row and
    # deletes again; the objects alone, without a row, are unreachable ciphertext anyway.
    objects = object_store().delete_prefix(f"{document.workspace_id}/{document.id}/")
    log.info("purged agreement's document deleted",
             extra={"agreement_id": data.agreement_id, "document_id": document.id,
                    "objects": objects})
