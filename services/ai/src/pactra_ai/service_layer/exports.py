"""The ai service's part of a workspace export: ``documents/<id>/analysis.json`` for each
document analysed, as ``GET /v1/documents/{id}/analysis`` answers it (api.md, "Exports")."""

from collections.abc import Iterator
from typing import Any

from pactra_contracts.events import Event
from pactra_platform.exports import File, contribute, json_bytes
from pactra_platform.settings import Settings

from ..config import SERVICE
from .analyses import analysis_out
from .unit_of_work import AbstractUnitOfWork


def files(uow: AbstractUnitOfWork, workspace_id: str) -> Iterator[File]:
    for analysis in uow.analyses.of_workspace(workspace_id):
        body = analysis_out(analysis).model_dump(mode="json")
        yield f"documents/{analysis.document_id}/analysis.json", [json_bytes(body)]


def on_export_requested(event: Event[Any], uow: AbstractUnitOfWork, settings: Settings) -> None:
    # Read in the handler's own unit of work (contribute hands the part its session, which
    # the repository already holds).
    contribute(event, uow, settings, SERVICE, lambda workspace_id, _session: files(uow, workspace_id))
