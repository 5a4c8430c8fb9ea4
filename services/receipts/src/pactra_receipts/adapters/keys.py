"""Receipt-signing keys: Ed25519, made once at first start, rotated on command.

Private keys are kept sealed under the master key (purpose ``receipt-keys``), bound to their
key id. Retired keys stay published so every receipt ever issued can still be checked.
"""

import hashlib
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pactra_platform.crypto import SecretBox, b64url

from ..domain.canonical import jcs
from .active_rows import ensure_active, rotate
from .orm import SigningKey

KEYS_PURPOSE = "receipt-keys"
# Any fixed 64-bit number: the advisory lock every replica takes before making a key.
KEY_LOCK = 0x7265636B657973  # "reckeys"


def thumbprint(x: str) -> str:
    """RFC 7638 JWK thumbprint: the key id is derived from the public key alone."""
    return b64url(hashlib.sha256(jcs({"crv": "Ed25519", "kty": "OKP", "x": x})).digest())


def _new_key(box: SecretBox) -> SigningKey:
    private = Ed25519PrivateKey.generate()
    raw_public = private.public_key().public_bytes_raw()
    x = b64url(raw_public)
    kid = thumbprint(x)
    sealed = box.seal(private.private_bytes_raw(), kid.encode())
    return SigningKey(kid=kid, status="active", public_x=x, private_sealed=sealed)


def _active(session: Session) -> SigningKey | None:
    return session.scalar(select(SigningKey).where(SigningKey.status == "active"))


def ensure_active_key(sessions: sessionmaker, master_key: str) -> str:
    """The active key's id, making the first key if there is none (once across replicas)."""
    return ensure_active(sessions, SigningKey, KEY_LOCK,
                         lambda: _new_key(SecretBox(master_key, KEYS_PURPOSE)), lambda key: key.kid)


def rotate_key(sessions: sessionmaker, master_key: str) -> str:
    """Make a new active key and retire the old one; returns the new key id."""
    return rotate(sessions, SigningKey, KEY_LOCK,
                  lambda: _new_key(SecretBox(master_key, KEYS_PURPOSE)), lambda key: key.kid)


@dataclass(frozen=True)
class ReceiptSigner:
    kid: str
    private: Ed25519PrivateKey

    def sign(self, message: bytes) -> str:
        return b64url(self.private.sign(message))


def active_signer(session: Session, master_key: str) -> ReceiptSigner:
    key = _active(session)
    if key is None:
        raise LookupError("no active receipt-signing key")
    raw = SecretBox(master_key, KEYS_PURPOSE).open(key.private_sealed, key.kid.encode())
    return ReceiptSigner(key.kid, Ed25519PrivateKey.from_private_bytes(raw))


def jwks(session: Session) -> dict:
    keys = session.scalars(select(SigningKey).order_by(SigningKey.created_at, SigningKey.kid))
    return {"keys": [
        {"kty": "OKP", "crv": "Ed25519", "x": key.public_x, "kid": key.kid, "alg": "EdDSA",
         "use": "sig", "status": key.status}
        for key in keys
    ]}



def current_signer(sessions: sessionmaker, master_key: str) -> ReceiptSigner:
    """The active key; the first receipt ever makes it (once, whatever races)."""
    with sessions() as session:
        try:
            return active_signer(session, master_key)
        except LookupError:
            ensure_active_key(sessions, master_key)
            return active_signer(session, master_key)
