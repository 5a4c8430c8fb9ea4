"""The signing service's part of a workspace export: per agreement ``agreement.json``, the
agreement with its signers and fields exactly as ``GET /v1/agreements/{id}`` answers it
(api.md, "Exports")."""

from collections.abc import Iterator

from sqlalchemy import text
from sqlalchemy.orm import Session

from pactra_contracts.events import Event
from pactra_platform.exports import File, contribute
from pactra_platform.settings import get_settings

from . import read_model
from .bootstrap import SERVICE

_ONE = "WHERE a.id = :agreement_id AND a.workspace_id = :workspace_id"
# The read model's own statement (one definition of the agreement's JSON, which a test holds
# to presenters.agreement_json), for every agreement of the workspace instead of one.
assert _ONE in read_model._AGREEMENT.text
_ALL = text(read_model._AGREEMENT.text.replace(
    "SELECT json_build_object(", "SELECT a.id, json_build_object(", 1).replace(
    _ONE, "WHERE a.workspace_id = :workspace_id ORDER BY a.created_at, a.id"))


def files(workspace_id: str, session: Session) -> Iterator[File]:
    rows = session.execute(_ALL, {"workspace_id": workspace_id},
                           execution_options={"yield_per": 200})
    for agreement_id, shown in rows:
        yield f"agreements/{agreement_id}/agreement.json", [shown.encode()]


def on_export_requested(event: Event, uow) -> None:
    contribute(event, uow, get_settings(), SERVICE, files)
