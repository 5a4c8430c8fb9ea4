"""The ai service's part of a workspace export: ``documents/<id>/analysis.json`` for each
document analysed, as ``GET /v1/documents/{id}/analysis`` answers it (api.md, "Exports")."""

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from pactra_contracts.events import Event
from pactra_platform.exports import File, contribute, json_bytes
from pactra_platform.settings import get_settings

from .analyses import present
from .models import Analysis
from .service import SERVICE


def files(workspace_id: str, session: Session) -> Iterator[File]:
    rows = session.scalars(select(Analysis).where(Analysis.workspace_id == workspace_id)
                           .order_by(Analysis.created_at, Analysis.id)
                           .execution_options(yield_per=200))
    for row in rows:
        yield f"documents/{row.document_id}/analysis.json", [json_bytes(present(row))]


def on_export_requested(event: Event, uow) -> None:
    contribute(event, uow, get_settings(), SERVICE, files)
