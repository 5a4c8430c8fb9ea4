"""The receipts service's part of a workspace export (api.md, "Exports"): per agreement its
audit trail (as ``GET .../audit`` answers it), receipt, sealed ``signed.pdf`` and
``certificate.pdf`` when they exist; and, so that ``pactra-verify --export`` needs no network,
the receipt keys (``keys/jwks.json``) and sealing certificates (``keys/certificates.pem``),
in force and retired."""

from collections.abc import Iterable, Iterator
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from pactra_contracts.events import Event
from pactra_platform.exports import File, contribute, json_bytes

from ..config import ReceiptsSettings
from .keys import jwks
from .orm import Receipt, TrackedAgreement
from .repository import entries_of
from .seal_store import published_chains

SERVICE = "receipts"


class ObjectReader(Protocol):
    def get(self, name: str) -> Iterable[bytes]: ...


def files(workspace_id: str, session: Session, store: ObjectReader,
          settings: ReceiptsSettings) -> Iterator[File]:
    yield "keys/jwks.json", [json_bytes(jwks(session))]
    yield "keys/certificates.pem", [published_chains(session, settings)]
    rows = session.execute(
        select(TrackedAgreement.id, Receipt.body, Receipt.signed_pdf, Receipt.certificate_pdf)
        .outerjoin(Receipt, Receipt.agreement_id == TrackedAgreement.id)
        .where(TrackedAgreement.workspace_id == workspace_id)
        .order_by(TrackedAgreement.created_at, TrackedAgreement.id),
        execution_options={"yield_per": 100})
    for agreement_id, body, signed_pdf, certificate_pdf in rows:
        folder = f"agreements/{agreement_id}"
        yield f"{folder}/audit.json", [json_bytes(
            {"agreement_id": agreement_id, "entries": entries_of(session, agreement_id)})]
        if body is not None:
            yield f"{folder}/receipt.json", [json_bytes(body)]
        if signed_pdf is not None:
            yield f"{folder}/signed.pdf", store.get(signed_pdf)
        if certificate_pdf is not None:
            yield f"{folder}/certificate.pdf", store.get(certificate_pdf)


def on_export_requested(event: Event, uow: Any, settings: ReceiptsSettings, store: ObjectReader) -> None:
    """Stage this service's part of the export, in the handler's own transaction (the
    platform's ``contribute`` reads it on the unit of work's session)."""
    contribute(event, uow, settings, SERVICE,
               lambda workspace_id, session: files(workspace_id, session, store, settings))
