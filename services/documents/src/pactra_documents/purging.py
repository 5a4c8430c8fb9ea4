"""Purging a deleted workspace's documents (api.md, "Deletion and retention"): their rows,
their objects (originals, extracted text, cached page images), the marker, the key."""

from functools import lru_cache

from pactra_contracts.events import Event
from pactra_platform import erasure
from pactra_platform.db import session_factory
from pactra_platform.objects import EncryptedObjectStore
from pactra_platform.settings import get_settings
from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork

SERVICE = "documents"


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
