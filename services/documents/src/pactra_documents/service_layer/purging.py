"""Purging documents (api.md, "Deletion and retention"): a deleted workspace's (their rows,
their objects: originals, extracted text, cached page images; the marker, the key), and a
purged agreement's document when nothing else uses it."""

import logging
from typing import Any

from pactra_contracts.events import AgreementPurged, Event
from pactra_platform import erasure

from ..domain.model import workspace_prefix
from .documents import Context, remove
from .ports import ObjectStore
from .unit_of_work import DocumentsUnitOfWork

log = logging.getLogger(__name__)


def on_deletion_requested(event: Event[Any], uow: DocumentsUnitOfWork, store: ObjectStore) -> None:
    request = erasure.purge_request(event)
    counts = uow.erase_workspace(request.workspace_id)
    # Deleted before the commit: should the commit fail, the redelivery deletes what is left.
    counts["objects"] = store.delete_prefix(workspace_prefix(request.workspace_id))
    uow.report_purged(event, counts)


def on_agreement_purged(event: Event[AgreementPurged], uow: DocumentsUnitOfWork,
                        store: ObjectStore) -> None:
    """Signing purged an agreement (retention, or an early delete): it no longer holds its
    document, and an ended one takes the document along unless another agreement (live,
    ended or a draft) still names it. Its analyses go on ``document.deleted`` (ai)."""
    data = event.payload()
    uow.agreement_uses.forget(data.agreement_id)
    if not data.purge_document or event.workspace_id is None:
        return
    document = uow.documents.get(event.workspace_id, data.document_id, None, lock=True)
    if document is None:
        return  # already gone (a redelivery, or deleted by its owner)
    if uow.agreement_uses.naming(document.id):
        log.info("purged agreement's document kept: another agreement uses it",
                 extra={"agreement_id": data.agreement_id, "document_id": document.id})
        return
    remove(uow, document, Context(request_id=event.correlation_id, actor=event.actor))
    # Deleted before the commit: should the commit fail, the redelivery finds the row and
    # deletes again; the objects alone, without a row, are unreadable ciphertext anyway.
    objects = store.delete_prefix(document.prefix)
    log.info("purged agreement's document deleted",
             extra={"agreement_id": data.agreement_id, "document_id": document.id,
                    "objects": objects})
