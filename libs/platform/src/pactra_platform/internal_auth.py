"""Signed internal calls (architecture.md, "Request path").

Every internal call — the gateway forwarding a public request, or a service calling another —
is signed with the calling service's own Ed25519 key over: the receiving service (so a call
meant for one service cannot be replayed at another), the method, the path with its query, a
timestamp (accepted within ±60 s), a nonce (remembered by the receiver for that window, see
``nonces.py``), the SHA-256 of the body and the identity headers. The receiver picks the
public key by the claimed caller (``X-Pactra-Caller``), so a service holding only its own
private key can sign as itself and nobody else. A service refuses (401) anything unsigned,
badly signed, stale, replayed or whose body does not hash to what was signed.

Keys are base64url (unpadded) raw 32-byte Ed25519 keys: ``PACTRA_<SERVICE>_INTERNAL_KEY``
holds a service's private key; the public keys are derived from the private keys a process
has, or given as ``PACTRA_INTERNAL_PUBLIC_KEYS`` (``gateway=<b64>,documents=<b64>,...``) where
a process only has its own private key.
"""

import base64
import binascii
import hashlib
import secrets
import string
import time
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from pactra_contracts.services import SERVICES

from .settings import Settings

WORKSPACE = "X-Pactra-Workspace"
API_KEY_ID = "X-Pactra-Key-Id"
REQUEST_ID = "X-Request-Id"
CALLER = "X-Pactra-Caller"
CLIENT_IP = "X-Pactra-Client-Ip"
USER_AGENT = "X-Pactra-User-Agent"
# The API key's mode (api.md, "Test mode"): "true" live, "false" test, absent when no key
# stands behind the call (a public route, or a service calling as itself).
LIVEMODE = "X-Pactra-Livemode"
TIMESTAMP = "X-Pactra-Timestamp"
NONCE = "X-Pactra-Nonce"
CONTENT_SHA256 = "X-Pactra-Content-Sha256"
SIGNATURE = "X-Pactra-Signature"
IDENTITY_HEADERS = (WORKSPACE, API_KEY_ID, REQUEST_ID, CALLER, CLIENT_IP, USER_AGENT, LIVEMODE)
MAX_SKEW_SECONDS = 60
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
# Bumped whenever what is signed changes: an old signature can never verify as a new one.
SCHEME = "pactra-internal-v3"  # v3: the identity includes X-Pactra-Livemode
_NONCE_CHARS = frozenset(string.ascii_letters + string.digits + "-_")
_HEX = frozenset("0123456789abcdef")


class KeyConfigError(RuntimeError):
    """A key in the configuration is missing or malformed (a deployment error)."""


def generate_key() -> str:
    """A new private key, as ``PACTRA_<SERVICE>_INTERNAL_KEY`` holds it."""
    return _b64(Ed25519PrivateKey.generate().private_bytes_raw())


def public_key_of(private: str) -> str:
    """The public key (base64url) of a private key as configured."""
    return _b64(load_private_key(private).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


def load_private_key(encoded: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(_raw32(encoded))


def load_public_key(encoded: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(_raw32(encoded))


def public_keys(settings: Settings) -> dict[str, Ed25519PublicKey]:
    """Every service's public key this process knows: derived from the private keys it has,
    then those of ``PACTRA_INTERNAL_PUBLIC_KEYS`` (which must agree with them)."""
    keys = {service: load_private_key(private).public_key() for service in SERVICES
            if (private := settings.internal_key_of(service))}
    for item in filter(None, (part.strip() for part in settings.internal_public_keys.split(","))):
        service, _, encoded = item.partition("=")
        service = service.strip()
        if service not in SERVICES:
            raise KeyConfigError(f"PACTRA_INTERNAL_PUBLIC_KEYS names an unknown service {service!r}")
        key = load_public_key(encoded.strip())
        known = keys.get(service)
        if known is not None and known.public_bytes_raw() != key.public_bytes_raw():
            raise KeyConfigError(f"PACTRA_INTERNAL_PUBLIC_KEYS disagrees with {service}'s private key")
        keys[service] = key
    return keys


def message(audience: str, method: str, path_with_query: str, timestamp: str, nonce: str,
            body_sha256: str, identity: Mapping[str, str]) -> bytes:
    # One field a line: none can hold a newline (header values cannot; the nonce, timestamp
    # and digest are checked), and the path comes before a fixed count of them, so two
    # different requests never make the same bytes.
    lines = [SCHEME, audience, method.upper(), path_with_query, timestamp, nonce, body_sha256]
    lines += [f"{name.lower()}:{identity.get(name, '')}" for name in IDENTITY_HEADERS]
    return "\n".join(lines).encode()


class Signer:
    """Signs calls as ``service``, with that service's private key."""

    def __init__(self, service: str, key: Ed25519PrivateKey) -> None:
        self.service = service
        self._key = key

    @classmethod
    def for_service(cls, settings: Settings, service: str) -> "Signer":
        encoded = settings.internal_key_of(service)
        if not encoded:
            raise KeyConfigError(f"PACTRA_{service.upper()}_INTERNAL_KEY must be set to sign internal "
                            "calls; `make run` generates it into .pactra/secrets.env")
        return cls(service, load_private_key(encoded))

    def sign(self, audience: str, method: str, path_with_query: str, identity: Mapping[str, str],
             body_sha256: str = EMPTY_SHA256, *, now: float | None = None,
             nonce: str | None = None) -> dict[str, str]:
        """Headers to add to a request to ``audience``: the identity (the caller is always
        this signer's service), a timestamp, a nonce, the body's digest and the signature."""
        identity = {**identity, CALLER: self.service}
        timestamp = str(int(now if now is not None else time.time()))
        nonce = nonce or secrets.token_urlsafe(16)
        signature = self._key.sign(
            message(audience, method, path_with_query, timestamp, nonce, body_sha256, identity))
        headers = {name: identity[name] for name in IDENTITY_HEADERS if identity.get(name)}
        headers[TIMESTAMP] = timestamp
        headers[NONCE] = nonce
        headers[CONTENT_SHA256] = body_sha256
        headers[SIGNATURE] = _b64(signature)
        return headers


@dataclass(frozen=True)
class Signed:
    """A call whose signature verified; its nonce is still to be claimed and its body to be
    checked against ``body_sha256``."""

    calling_service: str
    nonce: str
    timestamp: int
    body_sha256: str


class Verifier:
    """Checks calls made to ``audience`` (the service this process is)."""

    def __init__(self, audience: str, keys: Mapping[str, Ed25519PublicKey]) -> None:
        self.audience = audience
        self._keys = dict(keys)

    @classmethod
    def for_service(cls, settings: Settings, audience: str) -> "Verifier":
        return cls(audience, public_keys(settings))

    def verify(self, method: str, path_with_query: str, headers: Mapping[str, str],
               now: float | None = None) -> Signed | None:
        """The signed facts, or ``None`` when the signature is missing, malformed, stale or
        not the claimed caller's."""
        timestamp = headers.get(TIMESTAMP, "")
        nonce = headers.get(NONCE, "")
        digest = headers.get(CONTENT_SHA256, "")
        caller = headers.get(CALLER, "")
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
            return None
        current = now if now is not None else time.time()
        if abs(current - int(timestamp)) > MAX_SKEW_SECONDS:
            return None
        if not 16 <= len(nonce) <= 64 or not _NONCE_CHARS.issuperset(nonce):
            return None
        if len(digest) != 64 or not _HEX.issuperset(digest):
            return None
        key = self._keys.get(caller)
        signature = _unb64(headers.get(SIGNATURE, ""))
        if key is None or signature is None or len(signature) != 64:
            return None
        identity = {name: headers.get(name, "") for name in IDENTITY_HEADERS}
        try:
            key.verify(signature, message(self.audience, method, path_with_query, timestamp,
                                          nonce, digest, identity))
        except InvalidSignature:
            return None
        return Signed(calling_service=caller, nonce=nonce, timestamp=int(timestamp), body_sha256=digest)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def _raw32(encoded: str) -> bytes:
    raw = _unb64(encoded.strip())
    if raw is None or len(raw) != 32:
        raise KeyConfigError("an internal key must be 32 bytes, base64url-encoded")
    return raw
