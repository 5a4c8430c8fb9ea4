"""The one composition root: the receipts service built from its settings — database
sessions, the object store, the documents service, keys and seals, the evidence maker and
the handlers with what they need bound. The API, the worker, the issuer and the CLI each
call :func:`bootstrap`; nothing else reads settings."""

from dataclasses import dataclass, field
from functools import partial

from sqlalchemy.orm import sessionmaker

from pactra_platform.bus.consumer import Subscription
from pactra_platform.db import session_factory, snapshot_reads
from pactra_platform.objects import EncryptedObjectStore
from pactra_platform.settings import Settings

from .adapters import exports
from .adapters.documents import DocumentsClient
from .adapters.keys import current_signer
from .adapters.repository import EVIDENCE_SETTLED_CHANNEL
from .adapters.sealer import Sealer
from .adapters.waits import Waits
from .config import ReceiptsSettings
from .domain.attempts import AttemptPolicy
from .domain.trail import TRAIL_EVENTS
from .service_layer import handlers
from .service_layer.evidence import EvidenceMaker
from .service_layer.unit_of_work import SqlReceiptsUnitOfWork

SERVICE = "receipts"
USES_STORAGE = True


@dataclass
class Receipts:
    """The service, built: what its entrypoints use."""

    settings: ReceiptsSettings
    sessions: sessionmaker
    # For reads that are one statement (db.snapshot_reads).
    single_reads: sessionmaker
    store: EncryptedObjectStore
    evidence: EvidenceMaker
    attempts: AttemptPolicy
    # Requests waiting for a receipt (``Prefer: wait``), woken when evidence settles.
    waits: Waits
    subscriptions: tuple[Subscription, ...] = field(default=())

    def uow(self) -> SqlReceiptsUnitOfWork:
        return SqlReceiptsUnitOfWork(self.sessions)


def settings_of(settings: Settings | None) -> ReceiptsSettings:
    """The service's settings: from the environment, or completing the platform's given ones
    (a test stack's) with the environment's ``PACTRA_*`` for the rest."""
    if settings is None:
        return ReceiptsSettings()
    if isinstance(settings, ReceiptsSettings):
        return settings
    return ReceiptsSettings(**settings.model_dump(exclude_unset=True))


def bootstrap(settings: Settings | None = None) -> Receipts:
    config = settings_of(settings)
    sessions = session_factory(config, SERVICE)
    store = EncryptedObjectStore(config, SERVICE, sessions)
    evidence = EvidenceMaker(
        fetch_document=DocumentsClient(config).content,
        store=store,
        signer=partial(current_signer, sessions, config.master_key),
        verify_url=config.public_url.rstrip("/") + "/verify",
        seal=Sealer(sessions, config),
        tsa_url=config.tsa_url or None,
    )
    attempts = AttemptPolicy(retry_seconds=config.evidence_retry_seconds,
                             retry_max_seconds=config.evidence_retry_max_seconds,
                             tsa_grace_seconds=config.tsa_grace_seconds,
                             max_attempts=config.evidence_max_attempts)
    waits = Waits(config.database_url_of(SERVICE), EVIDENCE_SETTLED_CHANNEL, config.receipt_waiters)
    subscriptions = (
        Subscription("on_agreement_event", TRAIL_EVENTS, handlers.on_agreement_event),
        # Deletion of a workspace (api.md, "Deletion and retention"): tombstones, then the purge.
        Subscription("on_workspace_deletion_requested", ("workspace.deletion_requested",),
                     partial(handlers.on_deletion_requested, store=store)),
        # An agreement purged by retention or an early delete: its receipt becomes a tombstone.
        Subscription("on_agreement_purged", ("agreement.purged",),
                     partial(handlers.on_agreement_purged, store=store)),
        # Its part of a workspace export (api.md, "Exports").
        Subscription("on_export_requested", ("export.requested",),
                     partial(exports.on_export_requested, settings=config, store=store)),
    )
    return Receipts(settings=config, sessions=sessions, single_reads=snapshot_reads(config, SERVICE),
                    store=store, evidence=evidence, attempts=attempts, waits=waits,
                    subscriptions=subscriptions)
