"""API keys: ``pct_live_`` (or ``pct_test_`` for test mode) + a base62 secret + a checksum,
as GitHub-style tokens do.

The checksum lets the gateway (and secret scanners) reject a mistyped or made-up key without
a database look-up; only the SHA-256 of the whole key is stored.
"""

import hashlib
import secrets
import string
import zlib

PREFIX = "pct_live_"
TEST_PREFIX = "pct_test_"
PREFIXES = {"live": PREFIX, "test": TEST_PREFIX}
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


def _signed_part(prefix: str, secret_part: str) -> str:
    # A test key's checksum covers its prefix too, so a key with its prefix swapped (live for
    # test or the reverse) is malformed. Live keys keep the original secret-only checksum:
    # the keys already issued stay valid.
    return secret_part if prefix == PREFIX else prefix + secret_part


def generate(mode: str = "live") -> str:
    prefix = PREFIXES[mode]
    secret_part = "".join(secrets.choice(ALPHABET) for _ in range(SECRET_LENGTH))
    return prefix + secret_part + _checksum(_signed_part(prefix, secret_part))


def well_formed(key: str) -> bool:
    prefix = key[:len(PREFIX)]  # both prefixes are 9 characters
    if prefix not in PREFIXES.values() or len(key) != len(PREFIX) + SECRET_LENGTH + CHECKSUM_LENGTH:
        return False
    body = key[len(PREFIX):]
    secret_part, checksum = body[:SECRET_LENGTH], body[SECRET_LENGTH:]
    if any(char not in ALPHABET for char in body):
        return False
    return secrets.compare_digest(_checksum(_signed_part(prefix, secret_part)), checksum)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def display_prefix(key: str) -> str:
    return key[:DISPLAY_PREFIX_LENGTH]


def mode_of_prefix(prefix: str) -> str:
    """A key's mode, read from its stored display prefix (which begins with the key's own
    prefix): no column to keep in step with the key itself."""
    return "test" if prefix.startswith(TEST_PREFIX) else "live"
