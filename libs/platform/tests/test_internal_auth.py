"""Signing and checking internal calls."""

from pactra_platform import internal_auth

SECRET = "s" * 40
IDENTITY = {internal_auth.WORKSPACE: "ws_1", internal_auth.CALLER: "gateway",
            internal_auth.REQUEST_ID: "req_1"}


def test_a_signed_request_verifies():
    headers = internal_auth.sign(SECRET, "GET", "/v1/documents?limit=5", IDENTITY, now=1000)
    assert internal_auth.verify(SECRET, "get", "/v1/documents?limit=5", headers, now=1030)


def test_any_change_breaks_the_signature():
    headers = internal_auth.sign(SECRET, "POST", "/v1/documents", IDENTITY, now=1000)
    assert not internal_auth.verify(SECRET, "DELETE", "/v1/documents", headers, now=1000)
    assert not internal_auth.verify(SECRET, "POST", "/v1/documents?x=1", headers, now=1000)
    assert not internal_auth.verify("t" * 40, "POST", "/v1/documents", headers, now=1000)
    for name in (internal_auth.WORKSPACE, internal_auth.CALLER, internal_auth.REQUEST_ID):
        tampered = {**headers, name: "someone-else"}
        assert not internal_auth.verify(SECRET, "POST", "/v1/documents", tampered, now=1000)
    added = {**headers, internal_auth.API_KEY_ID: "key_other"}
    assert not internal_auth.verify(SECRET, "POST", "/v1/documents", added, now=1000)


def test_stale_or_future_timestamps_are_refused():
    headers = internal_auth.sign(SECRET, "GET", "/x", IDENTITY, now=1000)
    assert not internal_auth.verify(SECRET, "GET", "/x", headers, now=1061)
    assert not internal_auth.verify(SECRET, "GET", "/x", headers, now=939)
    assert not internal_auth.verify(SECRET, "GET", "/x", {}, now=1000)
