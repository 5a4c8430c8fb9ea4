"""The one-off re-wrap (``pactra-dev rewrap``): webhook endpoint secrets (the current one and
the one still overlapping a rotation) sealed under the master key before per-workspace keys
are sealed again under their workspace's key. Idempotent: a value already under a workspace
key is left as it is, so a second run changes nothing."""

from sqlalchemy import select, update

from pactra_platform.db import session_factory
from pactra_platform.erasure import KeyShredded
from pactra_platform.settings import Settings

from .models import WebhookEndpoint
from .webhooks import secret_cipher

SERVICE = "notify"
BATCH = 500
COLUMNS = ("secret_sealed", "previous_secret_sealed")


def rewrap(settings: Settings) -> dict[str, int]:
    sessions = session_factory(settings, SERVICE)
    cipher = secret_cipher(settings)
    changed = dict.fromkeys(COLUMNS, 0)
    after = ""
    while True:
        with sessions() as session:
            rows = session.execute(
                select(WebhookEndpoint.id, WebhookEndpoint.workspace_id,
                       WebhookEndpoint.secret_sealed, WebhookEndpoint.previous_secret_sealed)
                .where(WebhookEndpoint.id > after).order_by(WebhookEndpoint.id).limit(BATCH)).all()
            for endpoint_id, workspace_id, *values in rows:
                for name, sealed in zip(COLUMNS, values, strict=True):
                    if sealed is None:
                        continue
                    try:
                        resealed = cipher.rewrap(workspace_id, sealed, endpoint_id.encode())
                    except KeyShredded:
                        break  # its workspace is being deleted: the purge takes the row
                    if resealed is None:
                        continue
                    # Compare-and-set: a rotation committed meanwhile wins.
                    column = getattr(WebhookEndpoint, name)
                    changed[name] += session.execute(update(WebhookEndpoint).where(
                        WebhookEndpoint.id == endpoint_id, column == sealed)
                        .values({name: resealed})).rowcount
            session.commit()
        if len(rows) < BATCH:
            return {f"webhook_endpoints.{name}": n for name, n in changed.items()}
        after = rows[-1][0]
