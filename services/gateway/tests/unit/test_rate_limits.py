"""The in-process rate-limit storage (adapters/rate_limits.py): counts and windows as ``limits``'
own, without a new thread per count."""

import threading
import time

from limits import parse
from limits.strategies import FixedWindowRateLimiter

from pactra_gateway.adapters.rate_limits import SweptMemoryStorage


def test_it_counts_refuses_and_forgets_like_the_library_storage():
    storage = SweptMemoryStorage()
    limiter = FixedWindowRateLimiter(storage)
    three_per_second = parse("3/second")
    assert [limiter.hit(three_per_second, "key", "k1") for _ in range(4)] == [True, True, True, False]
    assert limiter.hit(three_per_second, "key", "k2")  # another key counts apart
    time.sleep(1.05)
    assert limiter.hit(three_per_second, "key", "k1")  # the next window


def test_a_thousand_counts_start_one_sweeper_thread_not_one_each():
    storage = SweptMemoryStorage()
    limiter = FixedWindowRateLimiter(storage)
    item = parse("100000/second")
    before = threading.active_count()
    started = []
    original = threading.Thread.start

    def counting_start(thread: threading.Thread) -> None:
        started.append(thread.name)
        original(thread)

    threading.Thread.start = counting_start  # type: ignore[method-assign]
    try:
        for i in range(1000):
            limiter.hit(item, "key", f"k{i % 10}")
    finally:
        threading.Thread.start = original  # type: ignore[method-assign]
    assert started == ["rate-limit-sweep"]
    assert threading.active_count() <= before + 1


def test_the_sweep_frees_counters_of_keys_not_seen_again():
    storage = SweptMemoryStorage()
    storage.SWEEP_SECONDS = 0.05
    limiter = FixedWindowRateLimiter(storage)
    limiter.hit(parse("5/second"), "key", "gone")
    deadline = time.monotonic() + 5
    while storage.storage and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not storage.storage
