"""Waiting for a receipt: ``Prefer: wait=N`` (RFC 7240) on ``GET /v1/agreements/{id}/receipt``.

An integration that would poll the receipt ten times a second holds one request open instead.
The issuer's commit NOTIFYs ``EVIDENCE_SETTLED_CHANNEL`` with the agreement id, and one
listening connection per process wakes the requests waiting for that agreement. Waiting is
bounded: at most ``MAX_WAIT_SECONDS``, and at most ``receipt_waiters`` requests at once per
process, so waits never take every thread (the others answer at once, as without the header).
A notification lost while the listener reconnects costs a re-check ``RECHECK_SECONDS`` later.
"""

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import psycopg

from pactra_platform.db import listen_connect_args

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_WAIT_SECONDS = 20
RECHECK_SECONDS = 1.0


def requested_wait(prefer_headers: list[str]) -> int | None:
    """The ``wait`` preference in seconds (at most MAX_WAIT_SECONDS), or None. Preferences
    that cannot be understood are ignored, as RFC 7240 asks."""
    for header in prefer_headers:
        for preference in header.split(","):
            name, _, value = preference.split(";", 1)[0].partition("=")
            if name.strip().lower() != "wait":
                continue
            value = value.strip().strip('"')
            if value.isdigit():
                return min(int(value), MAX_WAIT_SECONDS)
    return None


class Waits:
    """Requests waiting for something keyed by id, woken by NOTIFYs carrying that id."""

    def __init__(self, database_url: str, channel: str, capacity: int,
                 recheck_seconds: float = RECHECK_SECONDS) -> None:
        self._recheck_seconds = recheck_seconds
        self._connect_args = listen_connect_args(database_url)
        self._channel = channel
        self._slots = threading.BoundedSemaphore(capacity)
        self._lock = threading.Lock()
        self._waiting: dict[str, set[threading.Event]] = {}
        self._listener: threading.Thread | None = None

    @contextlib.contextmanager
    def slot(self) -> Iterator[bool]:
        """One of the ``capacity`` places to wait in, if one is free (never blocks)."""
        taken = self._slots.acquire(blocking=False)
        try:
            yield taken
        finally:
            if taken:
                self._slots.release()

    def until(self, key: str, read: Callable[[], T], settled: Callable[[T], bool],
              seconds: float) -> T:
        """``read()`` again after each notification for ``key`` until ``settled`` holds of
        what it read or ``seconds`` have passed; returns the last read."""
        deadline = time.monotonic() + seconds
        self._ensure_listener()
        woken = threading.Event()
        with self._lock:
            self._waiting.setdefault(key, set()).add(woken)
        try:
            while True:
                woken.clear()  # before reading: a commit landing meanwhile sets it again
                found = read()
                left = deadline - time.monotonic()
                if settled(found) or left <= 0:
                    return found
                woken.wait(min(left, self._recheck_seconds))
        finally:
            with self._lock:
                waiting = self._waiting[key]
                waiting.discard(woken)
                if not waiting:
                    del self._waiting[key]

    def _ensure_listener(self) -> None:
        with self._lock:
            if self._listener is None or not self._listener.is_alive():
                self._listener = threading.Thread(target=self._listen, daemon=True,
                                                  name=f"listen-{self._channel}")
                self._listener.start()

    def _listen(self) -> None:
        while True:
            try:
                with psycopg.connect(**self._connect_args) as connection:
                    # A channel is an identifier, not a parameter; ours are constants.
                    connection.execute(f"LISTEN {self._channel}")
                    for notification in connection.notifies():
                        self._wake(notification.payload)
            except Exception:  # the waits go on by re-checking; the listener reconnects
                log.warning("notifications unavailable; waits re-check every %s s",
                            self._recheck_seconds, extra={"channel": self._channel}, exc_info=True)
                time.sleep(self._recheck_seconds)

    def _wake(self, key: str) -> None:
        with self._lock:
            for woken in self._waiting.get(key, ()):
                woken.set()
