"""The notify service's part of a workspace export (api.md, "Exports"): ``webhooks.json``, the
endpoints as ``GET /v1/webhooks/{id}`` shows them (never their secrets), and
``deliveries.json``, every webhook delivery with its attempts as the delivery log shows it,
each with its ``endpoint_id``."""

from collections.abc import Iterator

from sqlalchemy.orm import Session

from pactra_contracts.events import Event
from pactra_platform.exports import File, contribute, json_array
from pactra_platform.settings import Settings
from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork

from .webhook_log import workspace_deliveries, workspace_endpoints

SERVICE = "notify"


def files(workspace_id: str, session: Session) -> Iterator[File]:
    yield "webhooks.json", json_array(workspace_endpoints(session, workspace_id))
    yield "deliveries.json", json_array(workspace_deliveries(session, workspace_id))


def on_export_requested(event: Event, uow: SqlAlchemyUnitOfWork, settings: Settings) -> None:
    contribute(event, uow, settings, SERVICE, files)
