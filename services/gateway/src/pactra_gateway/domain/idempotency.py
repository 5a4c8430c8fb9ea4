"""``Idempotency-Key`` rules (api.md): a key names one request for 24 hours; the first answer
is replayed to a retry, a reuse for another request is refused, and a retry while the first
still runs is told so. A claim carries a lease: after it, a retry takes the claim over (the
gateway that held it died mid-request). The records are adapters/idempotency.py."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from .errors import InProgress, KeyReused

RETENTION = timedelta(hours=24)
LEASE = timedelta(minutes=5)
MAX_KEY_LENGTH = 255
# The longest path a record can hold (its column); no route of the API comes near it.
MAX_PATH_LENGTH = 2048
# Only these response headers are part of what a replay gives back.
REPLAYED_HEADERS = ("Content-Type", "Location")
IN_PROGRESS = "in_progress"
COMPLETED = "completed"


@dataclass(frozen=True)
class Claim:
    record_id: int


@dataclass(frozen=True)
class Replay:
    status: int
    headers: dict[str, str]
    body: bytes


class Next(Enum):
    """What a request does with a key already recorded."""

    CLAIM_AFRESH = "claim_afresh"  # the record expired: forget it and claim the key anew
    REPLAY = "replay"  # the first request finished: give its answer again
    TAKE_OVER = "take_over"  # the first request's lease ran out: this one runs it


def well_formed_key(key: str) -> bool:
    """1 to 255 visible ASCII characters (the OpenAPI document's pattern ``^[!-~]+$``): no
    space, control or non-ASCII character, which proxies and clients would not carry alike."""
    return 0 < len(key) <= MAX_KEY_LENGTH and all("!" <= char <= "~" for char in key)


def next_step(*, state: str, same_request: bool, expires_at: datetime, locked_until: datetime,
              now: datetime, key: str) -> Next:
    """For a key already recorded; raises :class:`KeyReused` for another request under it and
    :class:`InProgress` while its first request still holds the lease."""
    if expires_at <= now:
        return Next.CLAIM_AFRESH
    if not same_request:
        raise KeyReused(key)
    if state == COMPLETED:
        return Next.REPLAY
    if locked_until > now:
        raise InProgress(key)
    return Next.TAKE_OVER
