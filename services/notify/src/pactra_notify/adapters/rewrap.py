"""The one-off re-wrap (``pactra-dev rewrap``): webhook endpoint secrets (the current one and
the one still overlapping a rotation) sealed under the master key before per-workspace keys
are sealed again under their workspace's key. Idempotent: a value already under a workspace
key is left as it is, so a second run changes nothing; a rotation committed meanwhile wins."""

from pactra_platform.db import session_factory
from pactra_platform.erasure import rewrap_column
from pactra_platform.settings import Settings

from .orm import WebhookEndpoint
from .webhook_secrets import EndpointSecrets

SERVICE = "notify"


def rewrap(settings: Settings) -> dict[str, int]:
    sessions = session_factory(settings, SERVICE)
    cipher = EndpointSecrets(settings.master_key, sessions).cipher
    return {f"webhook_endpoints.{column.key}": rewrap_column(
                sessions, cipher, column, key=WebhookEndpoint.id,
                workspace_id=WebhookEndpoint.workspace_id)
            for column in (WebhookEndpoint.secret_sealed, WebhookEndpoint.previous_secret_sealed)}
