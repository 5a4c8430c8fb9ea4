"""The documents service's part of a workspace export: per document its original PDF,
metadata (as ``GET /v1/documents/{id}`` shows it) and extracted text (api.md, "Exports")."""

from collections.abc import Iterator
from typing import Any

from pactra_contracts.events import Event
from pactra_platform.exports import File, contribute, json_bytes
from pactra_platform.settings import Settings

from .. import SERVICE
from .documents import document_out
from .ports import ObjectStore
from .unit_of_work import DocumentsUnitOfWork


def files(uow: DocumentsUnitOfWork, store: ObjectStore, workspace_id: str) -> Iterator[File]:
    for document in uow.documents.of_workspace(workspace_id):
        folder = f"documents/{document.id}"
        yield f"{folder}/metadata.json", [json_bytes(document_out(document).model_dump(mode="json"))]
        # Streamed from the bucket as the part is written: never whole in memory.
        yield f"{folder}/document.pdf", store.get(document.content_name)
        yield f"{folder}/text.txt", store.get(document.text_name)


def on_export_requested(event: Event[Any], uow: DocumentsUnitOfWork, store: ObjectStore,
                        settings: Settings) -> None:
    # Read in the handler's own unit of work (contribute hands the part its session, which
    # the repository already holds).
    contribute(event, uow, settings, SERVICE, lambda workspace_id, _session: files(uow, store, workspace_id))
