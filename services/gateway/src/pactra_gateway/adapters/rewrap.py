"""The one-off re-wrap (``pactra-dev rewrap``): the response bodies idempotency records keep
for replays, sealed under the master key before per-workspace keys, are sealed again under
their workspace's key. Idempotent: a value already under a workspace key is left as it is, so
a second run changes nothing. (Records live 24 hours, so this matters only for a day after
the upgrade; a backup taken before it still holds old ones, which the master key opens.)"""

from sqlalchemy import select, update

from pactra_gateway.adapters.idempotency import IdempotencyStore, body_cipher
from pactra_gateway.adapters.models import IdempotencyRecord
from pactra_platform.db import session_factory
from pactra_platform.erasure import KeyShredded
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
            return {"idempotency_records.response_body": changed}
        after = rows[-1][0]
