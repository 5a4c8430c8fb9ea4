"""The one-off re-wrap (``pactra-dev rewrap``): the response bodies idempotency records keep
for replays, sealed under the master key before per-workspace keys, are sealed again under
their workspace's key. Idempotent: a value already under a workspace key is left as it is, so
a second run changes nothing. (Records live 24 hours, so this matters only for a day after
the upgrade; a backup taken before it still holds old ones, which the master key opens.)
Export archives, kept 7 days, have their object key re-sealed the same way."""

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from pactra_gateway.adapters.idempotency import IdempotencyStore, body_cipher
from pactra_gateway.adapters.models import Export, IdempotencyRecord
from pactra_gateway.domain.exports import READY
from pactra_gateway.service_layer.exports import archive_store
from pactra_platform.db import session_factory
from pactra_platform.erasure import KeyShredded
from pactra_platform.exports import archive_object
from pactra_platform.objects import ObjectMissing
from pactra_platform.settings import Settings

SERVICE = "gateway"
BATCH = 500


def rewrap(settings: Settings) -> dict[str, int]:
    sessions = session_factory(settings, SERVICE)
    cipher = body_cipher(settings.master_key, sessions)
    changed = 0
    after = 0
    while True:
        with sessions() as session:
            rows = session.execute(
                select(IdempotencyRecord.id, IdempotencyRecord.workspace_id,
                       IdempotencyRecord.response_body)
                .where(IdempotencyRecord.response_body.is_not(None), IdempotencyRecord.id > after)
                .order_by(IdempotencyRecord.id).limit(BATCH)).all()
            for record_id, workspace_id, sealed in rows:
                try:
                    resealed = cipher.rewrap(workspace_id, sealed, IdempotencyStore.aad(record_id))
                except KeyShredded:
                    continue  # its workspace is being deleted: the purge takes the row
                if resealed is None:
                    continue
                changed += session.execute(update(IdempotencyRecord).where(
                    IdempotencyRecord.id == record_id, IdempotencyRecord.response_body == sealed)
                    .values(response_body=resealed)).rowcount
            session.commit()
        if len(rows) < BATCH:
            return {"idempotency_records.response_body": changed,
                    "export_archives": _rewrap_archives(settings, sessions)}
        after = rows[-1][0]


def _rewrap_archives(settings: Settings, sessions: sessionmaker[Session]) -> int:
    """Export archives written before they were sealed under their workspace's key (kept 7
    days: this matters for a week after the upgrade)."""
    store = archive_store(sessions, settings)
    with sessions() as session:
        ready = session.execute(select(Export.id, Export.workspace_id).where(
            Export.status == READY)).all()
    changed = 0
    for export_id, workspace_id in ready:
        try:
            changed += store.rewrap(archive_object(export_id), workspace_id)
        except (ObjectMissing, KeyShredded):
            continue  # purged meanwhile, or its workspace is being deleted
    return changed
