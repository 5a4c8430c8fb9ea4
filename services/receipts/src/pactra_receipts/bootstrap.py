"""The one place that knows the concrete dependencies: database, object store, documents
service, signing keys."""

from functools import lru_cache

from sqlalchemy.orm import Session, sessionmaker

from pactra_contracts.times import format_time
from pactra_platform.db import session_factory, snapshot_reads
from pactra_platform.internal_client import ServiceClient
from pactra_platform.objects import EncryptedObjectStore
from pactra_platform.settings import Settings, get_settings

from .config import SealSettings, seal_settings
from .evidence import EvidenceError, EvidenceMaker, Sealed, TsaUnavailable
from .issuer import EVIDENCE_SETTLED_CHANNEL
from .keys import ReceiptSigner, active_signer, ensure_active_key
from .seal_store import active_identity
from .sealing import is_tsa_failure, seal, timestamp_time
from .waits import Waits

SERVICE = "receipts"


def sessions(settings: Settings) -> sessionmaker:
    return session_factory(settings, SERVICE)


def single_reads(settings: Settings) -> sessionmaker:
    """For reads that are one statement (db.snapshot_reads)."""
    return snapshot_reads(settings, SERVICE)


def fetch_document(settings: Settings, workspace_id: str, document_id: str) -> bytes:
    client = ServiceClient(settings, SERVICE, "documents", timeout=60.0)
    response = client.request("GET", f"/v1/documents/{document_id}/content", workspace_id=workspace_id)
    if response.status_code != 200:
        raise EvidenceError(f"documents answered {response.status_code} for {document_id}'s content",
                            "document_unavailable")
    return response.content


def make_sealer(settings: Settings, sealing: SealSettings):
    def sealer(pdf: bytes, tsa_url: str | None) -> Sealed:
        identity = active_identity(sessions(settings), settings.master_key, sealing)
        try:
            sealed = seal(pdf, identity, tsa_url=tsa_url, tsa_timeout=sealing.tsa_timeout_seconds)
        except Exception as exc:
            if tsa_url and is_tsa_failure(exc):
                raise TsaUnavailable(f"the TSA at {tsa_url} failed: {exc}") from exc
            raise
        if not tsa_url:
            return Sealed(sealed, None)
        at = timestamp_time(sealed)
        if at is None:
            raise TsaUnavailable(f"the TSA at {tsa_url} gave no timestamp token")
        return Sealed(sealed, {"tsa": tsa_url, "time": format_time(at)})

    return sealer


def make_evidence_maker(settings: Settings, sealing: SealSettings | None = None) -> EvidenceMaker:
    sealing = sealing or seal_settings()

    def signer(session: Session) -> ReceiptSigner:
        try:
            return active_signer(session, settings.master_key)
        except LookupError:  # the first receipt ever: make the key (once, whatever races)
            ensure_active_key(sessions(settings), settings.master_key)
            return active_signer(session, settings.master_key)

    return EvidenceMaker(
        fetch_document=lambda ws, doc: fetch_document(settings, ws, doc),
        store=EncryptedObjectStore(settings, SERVICE, sessions(settings)),
        signer=signer,
        verify_url=settings.public_url.rstrip("/") + "/verify",
        seal=make_sealer(settings, sealing),
        tsa_url=sealing.tsa_url or None,
    )


@lru_cache(maxsize=1)
def evidence_maker() -> EvidenceMaker:
    return make_evidence_maker(get_settings())


@lru_cache(maxsize=1)
def object_store() -> EncryptedObjectStore:
    settings = get_settings()
    return EncryptedObjectStore(settings, SERVICE, sessions(settings))


def receipt_waits(settings: Settings) -> Waits:
    return _waits(settings.database_url_of(SERVICE))


@lru_cache(maxsize=4)
def _waits(database_url: str) -> Waits:
    return Waits(database_url, EVIDENCE_SETTLED_CHANNEL, seal_settings().receipt_waiters)
