"""The documents service's part of a workspace export: per document its original PDF,
metadata (as ``GET /v1/documents/{id}`` shows it) and extracted text (api.md, "Exports")."""

from collections.abc import Iterator
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from pactra_contracts.events import Event
from pactra_platform.db import session_factory
from pactra_platform.exports import File, contribute, json_bytes
from pactra_platform.objects import EncryptedObjectStore
from pactra_platform.settings import get_settings

from .documents import SERVICE, content_name, document_out, text_name
from .models import Document


@cache
def _store() -> EncryptedObjectStore:
    settings = get_settings()
    # With the service's sessions: objects sealed under a workspace key open through its keyring.
    return EncryptedObjectStore(settings, SERVICE, session_factory(settings, SERVICE))


def files(workspace_id: str, session: Session) -> Iterator[File]:
    store = _store()
    rows = session.scalars(select(Document).where(Document.workspace_id == workspace_id)
                           .order_by(Document.created_at, Document.id)
                           .execution_options(yield_per=200))
    for document in rows:
        folder = f"documents/{document.id}"
        yield f"{folder}/metadata.json", [json_bytes(document_out(document).model_dump(mode="json"))]
        # Streamed from the bucket as the part is written: never whole in memory.
        yield f"{folder}/document.pdf", store.get(content_name(document))
        yield f"{folder}/text.txt", store.get(text_name(document))


def on_export_requested(event: Event, uow) -> None:
    contribute(event, uow, get_settings(), SERVICE, files)
