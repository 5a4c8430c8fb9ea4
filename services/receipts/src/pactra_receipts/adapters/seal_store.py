"""The sealing identity: generated in development (once, whatever replicas race), or brought
as a PKCS#12 in production (``PACTRA_SEAL_P12``). Generated private keys are kept sealed under
the master key (purpose ``sealing-keys``), bound to their certificate's id. Retired
certificates stay published so every sealed PDF ever made can still be checked."""

import hashlib
from functools import lru_cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pactra_platform.crypto import SecretBox

from ..config import ReceiptsSettings
from .active_rows import ensure_active, rotate
from .orm import SealingCertificate
from .sealing import SealingIdentity, generate_development_chain, identity_from_p12

SEAL_PURPOSE = "sealing-keys"
# Any fixed 64-bit number: the advisory lock every replica takes before making a certificate.
SEAL_LOCK = 0x7365616C6B6579  # "sealkey"


def certificate_id(certificate_pem: bytes) -> str:
    der = x509.load_pem_x509_certificate(certificate_pem).public_bytes(serialization.Encoding.DER)
    return hashlib.sha256(der).hexdigest()


def _active(session: Session) -> SealingCertificate | None:
    return session.scalar(select(SealingCertificate).where(SealingCertificate.status == "active"))


def _new_row(box: SecretBox) -> SealingCertificate:
    identity = generate_development_chain()
    row_id = certificate_id(identity.certificate_pem)
    return SealingCertificate(
        id=row_id, status="active", certificate_pem=identity.certificate_pem.decode(),
        chain_pem=identity.chain_pem.decode(), key_sealed=box.seal(identity.key_pem, row_id.encode()))


def ensure_active_seal(sessions: sessionmaker, master_key: str) -> str:
    """The active generated certificate's id, making the first one if there is none."""
    return ensure_active(sessions, SealingCertificate, SEAL_LOCK,
                         lambda: _new_row(SecretBox(master_key, SEAL_PURPOSE)), lambda row: row.id)


def rotate_seal(sessions: sessionmaker, master_key: str) -> str:
    """A new development sealing certificate; the old one is retired but stays published."""
    return rotate(sessions, SealingCertificate, SEAL_LOCK,
                  lambda: _new_row(SecretBox(master_key, SEAL_PURPOSE)), lambda row: row.id)


@lru_cache(maxsize=4)
def _p12_identity(path: str, password: str | None) -> SealingIdentity:
    return identity_from_p12(Path(path).read_bytes(), password)


@lru_cache(maxsize=16)
def _opened(row_id: str, key_sealed: bytes, master_key: str, certificate_pem: str,
            chain_pem: str) -> SealingIdentity:
    key_pem = SecretBox(master_key, SEAL_PURPOSE).open(key_sealed, row_id.encode())
    return SealingIdentity(key_pem=key_pem, certificate_pem=certificate_pem.encode(),
                           chain_pem=chain_pem.encode())


def active_identity(sessions: sessionmaker, master_key: str, settings: ReceiptsSettings) -> SealingIdentity:
    if settings.seal_p12:
        return _p12_identity(settings.seal_p12, settings.seal_p12_password)
    with sessions() as session:
        row = _active(session)
        if row is None:  # the first seal ever: make the certificate (once, whatever races)
            ensure_active_seal(sessions, master_key)
            row = _active(session)
        assert row is not None
        return _opened(row.id, row.key_sealed, master_key, row.certificate_pem, row.chain_pem)


def published_chains(session: Session, settings: ReceiptsSettings) -> bytes:
    """Every sealing certificate with its chain, current first, then the retired ones (PEM)."""
    parts: list[bytes] = []
    if settings.seal_p12:
        parts.append(_p12_identity(settings.seal_p12, settings.seal_p12_password).published_chain)
    rows = session.scalars(select(SealingCertificate).order_by(
        (SealingCertificate.status == "active").desc(), SealingCertificate.created_at.desc()))
    parts += [(row.certificate_pem + row.chain_pem).encode() for row in rows]
    return b"".join(parts)
