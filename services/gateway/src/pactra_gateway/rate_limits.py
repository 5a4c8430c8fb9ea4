"""Rate limits per API key and per client IP, with ``RateLimit-*`` headers.

Counters live in memory (per process) unless ``PACTRA_REDIS_URL`` is set; with several
gateway workers or replicas, set it, or each process counts on its own.
"""

import math
import time
from dataclasses import dataclass

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from pactra_platform.settings import Settings


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int

    def headers(self) -> dict[str, str]:
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(self.reset_seconds, 1))
        return headers


class RateLimits:
    def __init__(self, settings: Settings) -> None:
        uri = settings.redis_url or "memory://"
        self._limiter = FixedWindowRateLimiter(storage_from_string(uri))
        self._per_key = parse(settings.rate_limit_per_key)
        self._per_ip = parse(settings.rate_limit_per_ip)
        self._auth_failures = parse(settings.auth_failure_limit_per_ip)
        self._unknown_tokens = parse(settings.token_lockout)
        # Counters are keyed under the bus prefix, so tests and a `make run` sharing one
        # Redis never count each other's requests.
        self._namespace = settings.bus_prefix

    def check_key(self, api_key_id: str) -> Verdict:
        return self._check(self._per_key, "key", api_key_id)

    def check_ip(self, client_ip: str) -> Verdict:
        return self._check(self._per_ip, "ip", client_ip)

    def check_operations(self, client_ip: str) -> Verdict:
        """``/readyz`` and ``/metrics`` (each answer costs database and broker round trips, or a
        full metrics dump): the per-IP rate, counted apart so probes and clients never starve
        each other."""
        return self._check(self._per_ip, "ops", client_ip)

    # Failed authentications and unknown signing tokens, per IP: `peek_*` asks whether the IP
    # is still under its limit without counting (so the database is never asked for an IP past
    # it); `count_*` counts one more failure. A success counts nothing.
    def peek_auth_failures(self, client_ip: str) -> Verdict:
        return self._peek(self._auth_failures, "authfail", client_ip)

    def count_auth_failure(self, client_ip: str) -> Verdict:
        return self._check(self._auth_failures, "authfail", client_ip)

    def peek_unknown_tokens(self, client_ip: str) -> Verdict:
        return self._peek(self._unknown_tokens, "token", client_ip)

    def count_unknown_token(self, client_ip: str) -> Verdict:
        return self._check(self._unknown_tokens, "token", client_ip)

    def _peek(self, item, kind: str, who: str) -> Verdict:
        identifiers = (self._namespace, kind, who)
        allowed = self._limiter.test(item, *identifiers)
        stats = self._limiter.get_window_stats(item, *identifiers)
        reset = max(0, math.ceil(stats.reset_time - time.time()))
        return Verdict(allowed, item.amount, max(stats.remaining, 0), reset)

    def _check(self, item, kind: str, who: str) -> Verdict:
        identifiers = (self._namespace, kind, who)
        allowed = self._limiter.hit(item, *identifiers)
        stats = self._limiter.get_window_stats(item, *identifiers)
        reset = max(0, math.ceil(stats.reset_time - time.time()))
        return Verdict(allowed, item.amount, max(stats.remaining, 0), reset)
