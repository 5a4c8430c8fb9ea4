"""Signing tokens: 32 random bytes, base64url; kept only as a SHA-256 and a sealed copy."""

import hashlib
import secrets

from pactra_platform.crypto import SecretBox

TOKEN_BYTES = 32
TOKEN_LENGTH = 43  # base64url of 32 bytes, unpadded


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def plausible(token: str) -> bool:
    """Cheap shape check before a database look-up."""
    return len(token) == TOKEN_LENGTH and all(c.isalnum() or c in "-_" for c in token)


class TokenVault:
    """Seals tokens for resending (reminders, embedded links); bound to the signer id."""

    def __init__(self, master_key: str) -> None:
        self._box = SecretBox(master_key, "signing-tokens")

    def seal(self, token: str, signer_id: str) -> bytes:
        return self._box.seal(token.encode(), signer_id.encode())

    def open(self, sealed: bytes, signer_id: str) -> str:
        return self._box.open(sealed, signer_id.encode()).decode()
