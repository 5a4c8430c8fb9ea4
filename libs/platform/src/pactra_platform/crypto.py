"""Secrets at rest: keys derived from the master key, AES-256-GCM for small values.

Each purpose gets its own key (HKDF with the purpose as ``info``), so a key that leaks from
one use — say the idempotency store — opens nothing else.
"""

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def derive_key(master_key: str, purpose: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"pactra/v1", info=purpose.encode()
    ).derive(master_key.encode())


class SecretBox:
    """AES-256-GCM under a purpose key; ``associated`` binds a ciphertext to its record."""

    def __init__(self, master_key: str, purpose: str) -> None:
        self._aead = AESGCM(derive_key(master_key, purpose))

    def seal(self, plaintext: bytes, associated: bytes = b"") -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, plaintext, associated)

    def open(self, sealed: bytes, associated: bytes = b"") -> bytes:
        return self._aead.decrypt(sealed[:12], sealed[12:], associated)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def constant_time_equal(a: str | bytes, b: str | bytes) -> bool:
    a_bytes = a.encode() if isinstance(a, str) else a
    b_bytes = b.encode() if isinstance(b, str) else b
    return hmac.compare_digest(a_bytes, b_bytes)
