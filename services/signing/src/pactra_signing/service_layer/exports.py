"""The signing service's part of a workspace export: per agreement ``agreement.json``, the
agreement with its signers and fields exactly as ``GET /v1/agreements/{id}`` answers it
(api.md, "Exports"). The read model (adapters/read_model.py) writes them."""

from collections.abc import Callable
from typing import Any

from pactra_contracts.events import Event
from pactra_platform.exports import contribute
from pactra_platform.settings import Settings

from ..adapters import read_model
from .unit_of_work import SqlUnitOfWork

SERVICE = "signing"


def export_handler(settings: Settings) -> Callable[[Event[Any], SqlUnitOfWork], None]:
    """The ``export.requested`` handler, staging the part with ``settings``' object store."""
    def on_export_requested(event: Event[Any], uow: SqlUnitOfWork) -> None:
        contribute(event, uow, settings, SERVICE, read_model.export_files)
    return on_export_requested
