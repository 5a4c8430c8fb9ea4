"""Rate limits per API key and per client IP, with ``RateLimit-*`` headers.

Counters live in memory (per process) unless ``PACTRA_REDIS_URL`` is set; with several
gateway workers or replicas, set it, or each process counts on its own.
"""

import math
import threading
import time
from dataclasses import dataclass

from limits import parse
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from pactra_gateway.config import GatewaySettings


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


class SweptMemoryStorage(MemoryStorage):
    """``limits``' in-process storage, its expiry sweep on one long-lived thread. The library's
    own starts a new 10 ms timer thread whenever the last one has finished, so on almost every
    count, and ``Thread.start`` waits until the new thread holds the GIL: py-spy put 5 % of the
    gateway's time per forwarded request there. An expired counter is already dropped when it
    is read (``MemoryStorage.get``); the sweep only frees the memory of keys not seen again."""

    SWEEP_SECONDS = 1.0

    def __init__(self) -> None:
        super().__init__()
        self._sweeper: threading.Thread | None = None
        self._sweeper_lock = threading.Lock()

    def _MemoryStorage__schedule_expiry(self) -> None:  # replaces the library's (name-mangled)
        if self._sweeper is not None:
            return
        with self._sweeper_lock:
            # Started on first use, in the serving process (gunicorn forks after import).
            if self._sweeper is None:
                self._sweeper = threading.Thread(target=self._sweep, name="rate-limit-sweep",
                                                 daemon=True)
                self._sweeper.start()

    def _sweep(self) -> None:
        while True:
            time.sleep(self.SWEEP_SECONDS)
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]


def limits_storage(redis_url: str | None) -> Storage:
    if not redis_url:
        return SweptMemoryStorage()
    storage = storage_from_string(redis_url)
    assert isinstance(storage, Storage)  # redis:// is the synchronous storage (async:// is not)
    return storage


class RateLimits:
    def __init__(self, settings: GatewaySettings) -> None:
        self._limiter = FixedWindowRateLimiter(limits_storage(settings.redis_url))
        # PACTRA_RATE_LIMIT_PER_KEY is an operator's cap over every plan; unset, each
        # workspace's plan sets its keys' rate (domain/plans.py).
        self._per_key = parse(settings.rate_limit_per_key) if settings.rate_limit_per_key else None
        self._plan_rates: dict[str, object] = {}
        self._per_ip = parse(settings.rate_limit_per_ip)
        self._auth_failures = parse(settings.auth_failure_limit_per_ip)
        self._unknown_tokens = parse(settings.token_lockout)
        self._signups_per_ip = parse(settings.signup_limit_per_ip)
        self._signups_per_domain = parse(settings.signup_limit_per_domain)
        self._recoveries_per_ip = parse(settings.recover_limit_per_ip)
        self._recoveries_per_email = parse(settings.recover_limit_per_email)
        # Counters are keyed under the bus prefix, so tests and a `make run` sharing one
        # Redis never count each other's requests.
        self._namespace = settings.bus_prefix

    def check_key(self, api_key_id: str, plan_rate: str = "100/second") -> Verdict:
        item = self._per_key
        if item is None:
            item = self._plan_rates.get(plan_rate)
            if item is None:
                item = self._plan_rates.setdefault(plan_rate, parse(plan_rate))
        return self._check(item, "key", api_key_id)

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

    # Signups and recovery requests: each attempt counts, per client IP and per email domain
    # (signup) or address (recovery), so neither a single source nor a rotation of sources
    # can mint workspaces or mail links without bound.
    def check_signup(self, client_ip: str, email_domain: str) -> Verdict:
        return self._check_all(((self._signups_per_ip, "signup-ip", client_ip),
                                (self._signups_per_domain, "signup-domain", email_domain)))

    def check_recovery(self, client_ip: str, email: str) -> Verdict:
        return self._check_all(((self._recoveries_per_ip, "recover-ip", client_ip),
                                (self._recoveries_per_email, "recover-email", email)))

    def _check_all(self, checks) -> Verdict:
        """Every limit counts the attempt; the verdict is the first that refuses, or else the
        one with the least room left."""
        verdicts = [self._check(item, kind, who) for item, kind, who in checks]
        refused = [v for v in verdicts if not v.allowed]
        return refused[0] if refused else min(verdicts, key=lambda v: v.remaining)

    def _peek(self, item, kind: str, who: str) -> Verdict:
        return self._verdict(item, kind, who, count=False)

    def _check(self, item, kind: str, who: str) -> Verdict:
        return self._verdict(item, kind, who, count=True)

    def _verdict(self, item, kind: str, who: str, *, count: bool) -> Verdict:
        identifiers = (self._namespace, kind, who)
        allowed = (self._limiter.hit if count else self._limiter.test)(item, *identifiers)
        stats = self._limiter.get_window_stats(item, *identifiers)
        reset = max(0, math.ceil(stats.reset_time - time.time()))
        return Verdict(allowed, item.amount, max(stats.remaining, 0), reset)
