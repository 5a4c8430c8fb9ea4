"""The one place that knows the concrete dependencies: database, object store, documents
service, signing keys."""

from functools import lru_cache

from sqlalchemy.orm import Session, sessionmaker

from pactra_platform.db import session_factory
from pactra_platform.internal_client import ServiceClient
from pactra_platform.objects import EncryptedObjectStore
from pactra_platform.settings import Settings, get_settings

from .evidence import EvidenceError, EvidenceMaker
from .keys import ReceiptSigner, active_signer, ensure_active_key

SERVICE = "receipts"


def sessions(settings: Settings) -> sessionmaker:
    return session_factory(settings, SERVICE)


def fetch_document(settings: Settings, workspace_id: str, document_id: str) -> bytes:
    client = ServiceClient(settings, SERVICE, "documents", timeout=60.0)
    response = client.request("GET", f"/v1/documents/{document_id}/content", workspace_id=workspace_id)
    if response.status_code != 200:
        raise EvidenceError(f"documents answered {response.status_code} for {document_id}'s content")
    return response.content


def make_evidence_maker(settings: Settings) -> EvidenceMaker:
    def signer(session: Session) -> ReceiptSigner:
        ensure_active_key(sessions(settings), settings.master_key)
        return active_signer(session, settings.master_key)

    return EvidenceMaker(
        fetch_document=lambda ws, doc: fetch_document(settings, ws, doc),
        store=EncryptedObjectStore(settings, SERVICE),
        signer=signer,
        verify_url=settings.public_url.rstrip("/") + "/verify",
    )


@lru_cache(maxsize=1)
def evidence_maker() -> EvidenceMaker:
    return make_evidence_maker(get_settings())


@lru_cache(maxsize=1)
def object_store() -> EncryptedObjectStore:
    return EncryptedObjectStore(get_settings(), SERVICE)
