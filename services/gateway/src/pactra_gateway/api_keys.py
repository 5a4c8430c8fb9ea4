"""API keys: ``pct_live_`` + a base62 secret + a checksum, as GitHub-style tokens do.

The checksum lets the gateway (and secret scanners) reject a mistyped or made-up key without
a database look-up; only the SHA-256 of the whole key is stored.
"""

import hashlib
import secrets
import string
import zlib

PREFIX = "pct_live_"
ALPHABET = string.digits + string.ascii_letters
SECRET_LENGTH = 40  # 40 base62 characters: about 238 bits
CHECKSUM_LENGTH = 6
DISPLAY_PREFIX_LENGTH = 12


def _base62(number: int, width: int) -> str:
    chars = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        chars.append(ALPHABET[digit])
    return "".join(reversed(chars))


def _checksum(secret_part: str) -> str:
    return _base62(zlib.crc32(secret_part.encode()), CHECKSUM_LENGTH)


def generate() -> str:
    secret_part = "".join(secrets.choice(ALPHABET) for _ in range(SECRET_LENGTH))
    return PREFIX + secret_part + _checksum(secret_part)


def well_formed(key: str) -> bool:
    if not key.startswith(PREFIX) or len(key) != len(PREFIX) + SECRET_LENGTH + CHECKSUM_LENGTH:
        return False
    body = key[len(PREFIX):]
    secret_part, checksum = body[:SECRET_LENGTH], body[SECRET_LENGTH:]
    if any(char not in ALPHABET for char in body):
        return False
    return secrets.compare_digest(_checksum(secret_part), checksum)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def display_prefix(key: str) -> str:
    return key[:DISPLAY_PREFIX_LENGTH]
