"""Helpers for tests that drive the platform from outside: poll, sign up, authenticate."""

import itertools
import os
import time
from collections.abc import Callable
from pathlib import Path

import requests

_counter = itertools.count()


def wait_until(probe: Callable[[], object], timeout: float = 20.0, interval: float = 0.1) -> object:
    """Poll ``probe`` until it returns something truthy; fail with its last value."""
    deadline = time.monotonic() + timeout
    value = probe()
    while not value:
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value {value!r})")
        time.sleep(interval)
        value = probe()
    return value


def unique_email(stem: str = "user") -> str:
    return f"{stem}{next(_counter)}.{time.time_ns()}@example.com"


def signup(gateway_url: str, name: str = "Ada Lovelace") -> dict:
    """A fresh workspace; returns the signup response with its API key."""
    response = requests.post(gateway_url + "/v1/signup", json={
        "name": name, "email": unique_email(), "workspace_name": f"{name}'s workspace"}, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()


def auth(account: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {account['api_key']['key']}"}


def shared_data(*parts: str) -> Path:
    """A file of the shared test data (``../shared/data`` beside the project's root, as CI and
    developers' machines have it; ``PACTRA_SHARED_DIR`` overrides; ``/work/shared`` last)."""
    candidates = [os.environ.get("PACTRA_SHARED_DIR", ""),
                  str(Path(__file__).resolve().parents[4] / ".." / "shared"), "/work/shared"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "data").is_dir():
            return Path(candidate, "data", *parts)
    raise FileNotFoundError("the shared test data (../shared/data) is not on this machine")


def request_from(source_ip: str, url: str, method: str = "GET", headers: dict[str, str] | None = None,
                 body: bytes | None = None, timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
    """One request sent from ``source_ip`` (any 127.x.y.z reaches the loopback), to play a
    client other than the tests' own 127.0.0.1: (status, headers, body)."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout,
                                            source_address=(source_ip, 0))
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, target, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()
