"""API keys this gateway process checked a moment ago, so most requests skip the database.

Keyed by the key's SHA-256 (the raw key is never kept). An entry lives ``ttl`` seconds; a key
revoked through this process is forgotten at once, through another within ``ttl``. Unknown or
revoked keys are not cached: a bad key always costs a look-up, and never blocks a good one.
"""

import threading
import time
from collections.abc import Callable

from cachetools import TTLCache

from .accounts import Caller

MAX_KEYS = 10_000


class CallerCache:
    def __init__(self, ttl: float, timer: Callable[[], float] = time.monotonic) -> None:
        self._entries: TTLCache[str, Caller] | None = (TTLCache(MAX_KEYS, ttl, timer=timer)
                                                       if ttl > 0 else None)
        # Keys revoked here lately: a request that read such a key just before its revocation
        # committed must not put it back.
        self._revoked: TTLCache[str, bool] | None = (TTLCache(MAX_KEYS, ttl, timer=timer)
                                                     if ttl > 0 else None)
        # TTLCache is not thread-safe; gunicorn's threads share this one.
        self._lock = threading.Lock()

    def get(self, key_hash: str) -> Caller | None:
        if self._entries is None:
            return None
        with self._lock:
            return self._entries.get(key_hash)

    def put(self, key_hash: str, caller: Caller) -> None:
        if self._entries is not None and self._revoked is not None:
            with self._lock:
                if caller.api_key_id not in self._revoked:
                    self._entries[key_hash] = caller

    def forget_key(self, api_key_id: str) -> None:
        if self._entries is None or self._revoked is None:
            return
        with self._lock:
            self._revoked[api_key_id] = True
            for key_hash in [h for h, c in self._entries.items() if c.api_key_id == api_key_id]:
                self._entries.pop(key_hash, None)  # it may have expired meanwhile
