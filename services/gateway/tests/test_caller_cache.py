"""The gateway's short memory of checked API keys."""

from pactra_gateway.accounts import Caller
from pactra_gateway.caller_cache import CallerCache


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_checked_key_is_trusted_for_the_ttl_only() -> None:
    clock = Clock()
    cache = CallerCache(5.0, timer=clock)
    caller = Caller(workspace_id="ws_1", api_key_id="key_1")
    cache.put("hash-1", caller)
    clock.now = 4.9
    assert cache.get("hash-1") == caller
    clock.now = 5.1
    assert cache.get("hash-1") is None


def test_revoking_forgets_every_entry_of_that_key_only() -> None:
    cache = CallerCache(60.0)
    cache.put("hash-1", Caller("ws_1", "key_1"))
    cache.put("hash-2", Caller("ws_1", "key_2"))
    cache.forget_key("key_1")
    assert cache.get("hash-1") is None
    assert cache.get("hash-2") == Caller("ws_1", "key_2")


def test_zero_ttl_remembers_nothing() -> None:
    cache = CallerCache(0)
    cache.put("hash-1", Caller("ws_1", "key_1"))
    assert cache.get("hash-1") is None


def test_a_read_that_raced_the_revocation_cannot_put_the_key_back() -> None:
    cache = CallerCache(60.0)
    cache.forget_key("key_1")
    cache.put("hash-1", Caller("ws_1", "key_1"))
    assert cache.get("hash-1") is None
