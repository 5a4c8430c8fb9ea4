"""Webhook endpoint secrets, sealed under their workspace's data key (crypto-shredded with the
workspace) and bound to the endpoint id; secrets sealed under the master key before
per-workspace keys still open (``pactra-dev rewrap`` moves them)."""

from sqlalchemy.orm import sessionmaker

from pactra_platform.db import session_factory
from pactra_platform.erasure import ColumnCipher
from pactra_platform.settings import Settings

SECRET_PURPOSE = "webhook-secrets"  # noqa: S105 - the key derivation's label, not a secret


class EndpointSecrets:
    """Seals and opens endpoint secrets (the service layer's ``SecretSealer``)."""

    def __init__(self, master_key: str, sessions: sessionmaker) -> None:
        self.cipher = ColumnCipher(master_key, SECRET_PURPOSE, sessions)

    def seal(self, workspace_id: str, endpoint_id: str, secret: str) -> bytes:
        return self.cipher.seal(workspace_id, secret.encode(), endpoint_id.encode())

    def open(self, endpoint_id: str, sealed: bytes) -> str:
        return self.cipher.open(bytes(sealed), endpoint_id.encode()).decode()


def open_secret(settings: Settings, endpoint_id: str, sealed: bytes) -> str:
    """One secret in clear, for tools outside the running service (``pactra-dev``, tests)."""
    return EndpointSecrets(settings.master_key, session_factory(settings, "notify")).open(endpoint_id, sealed)
