"""Signing tokens: 32 random bytes, base64url; kept only as a SHA-256 and a sealed copy."""

import hashlib
import secrets
from typing import Any

from pactra_platform.erasure import ColumnCipher

TOKEN_BYTES = 32
TOKEN_LENGTH = 43  # base64url of 32 bytes, unpadded
PURPOSE = "signing-tokens"


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def plausible(token: str) -> bool:
    """Cheap shape check before a database look-up."""
    return len(token) == TOKEN_LENGTH and all(c.isalnum() or c in "-_" for c in token)


class TokenVault:
    """Seals tokens for resending (reminders, embedded links), bound to the signer id, under
    the workspace's data key (crypto-shredded with the workspace); tokens sealed under the
    master key before per-workspace keys still open (``pactra-dev rewrap`` moves them)."""

    def __init__(self, master_key: str, sessions: Any) -> None:
        self.cipher = ColumnCipher(master_key, PURPOSE, sessions)

    def seal(self, token: str, signer_id: str, workspace_id: str) -> bytes:
        return self.cipher.seal(workspace_id, token.encode(), signer_id.encode())

    def open(self, sealed: bytes, signer_id: str) -> str:
        return self.cipher.open(sealed, signer_id.encode()).decode()
