"""Waiting for a receipt: the ``Prefer: wait`` header, and waits woken by PostgreSQL NOTIFY."""

import secrets
import threading
import time

import psycopg
import pytest

from pactra_devtools.testing import wait_until
from pactra_platform.db import listen_connect_args
from pactra_platform.settings import Settings
from pactra_receipts.adapters.waits import MAX_WAIT_SECONDS, Waits, requested_wait


@pytest.mark.parametrize(("headers", "seconds"), [
    ([], None),
    (["wait=5"], 5),
    (["respond-async, wait=10"], 10),
    (["WAIT = 3"], 3),
    (['wait="7"'], 7),
    (["handling=lenient", "wait=2; extra=1"], 2),
    (["wait=3600"], MAX_WAIT_SECONDS),
    (["wait=soon", "wait=-1"], None),
    (["return=minimal"], None),
])
def test_the_wait_preference_is_read_as_rfc_7240_writes_it(headers: list[str], seconds: int | None) -> None:
    assert requested_wait(headers) == seconds


@pytest.fixture
def channel_and_url() -> tuple[str, str]:
    # A channel of this test's own: a `make run` on the same server never hears it.
    return f"test_waits_{secrets.token_hex(6)}", Settings().database_url.rstrip("/") + "/postgres"


def _notify(url: str, channel: str, payload: str) -> None:
    with psycopg.connect(**listen_connect_args(url)) as connection:
        connection.execute("SELECT pg_notify(%s, %s)", (channel, payload))


def _listening(url: str, channel: str) -> bool:
    """Whether some session of the server LISTENs on ``channel`` (its last statement)."""
    with psycopg.connect(**listen_connect_args(url)) as connection:
        return bool(connection.execute("SELECT count(*) FROM pg_stat_activity WHERE query = %s",
                                       (f"LISTEN {channel}",)).fetchone()[0])


def test_a_wait_ends_on_the_notification_for_its_key(channel_and_url: tuple[str, str]) -> None:
    channel, url = channel_and_url
    # No re-checks within the test's time: only a notification can end the wait early.
    waits = Waits(url, channel, capacity=2, recheck_seconds=60)
    state = {"agr_1": "pending"}
    reads: list[str] = []

    def read() -> str:
        reads.append(state["agr_1"])
        return state["agr_1"]

    issued_at: list[float] = []

    def issue_later() -> None:
        # Once the wait has read and its listener is LISTENing (a notification sent before
        # would reach nobody, and prove nothing).
        wait_until(lambda: reads and _listening(url, channel), 15)
        _notify(url, channel, "agr_other")  # someone else's receipt wakes nobody here
        # A wrong wake-up would show as a second "pending" read: give it the time to happen
        # (the one pause left: nothing to wait for when the right outcome is that nothing happens).
        time.sleep(0.2)
        issued_at.append(time.monotonic())
        state["agr_1"] = "issued"
        _notify(url, channel, "agr_1")

    issuer = threading.Thread(target=issue_later)
    started = time.monotonic()
    issuer.start()
    found = waits.until("agr_1", read, lambda s: s == "issued", seconds=15)
    ended = time.monotonic()
    issuer.join()
    assert found == "issued"
    # Woken by its own key's notification, long before the wait's end; the other key's
    # notification woke nobody (one read before waiting, one after the right notification).
    assert issued_at and issued_at[0] <= ended and ended - started < 8
    assert reads == ["pending", "issued"]


def test_a_wait_without_news_ends_when_its_time_is_up(channel_and_url: tuple[str, str]) -> None:
    channel, url = channel_and_url
    waits = Waits(url, channel, capacity=1)
    started = time.monotonic()
    assert waits.until("agr_1", lambda: "pending", lambda s: s == "issued", seconds=1.5) == "pending"
    assert time.monotonic() - started >= 1.5


def test_only_so_many_requests_wait_at_once(channel_and_url: tuple[str, str]) -> None:
    channel, url = channel_and_url
    waits = Waits(url, channel, capacity=1)
    with waits.slot() as first, waits.slot() as second:
        assert first and not second
    with waits.slot() as again:
        assert again
