"""Helpers for tests that drive the platform from outside: poll, sign up, authenticate."""

import asyncio
import itertools
import os
import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import requests

_counter = itertools.count()


def wait_until(probe: Callable[[], Any], timeout: float = 20.0, interval: float = 0.1, *,
               message: str = "condition", describe: Callable[[], object] | None = None) -> Any:
    """Poll ``probe`` until it returns something truthy, and return that; fail after
    ``timeout`` s naming ``message`` and ``describe()`` (or the last value). The one waiting
    helper of the tests: never ``sleep`` and hope."""
    deadline = time.monotonic() + timeout
    value = probe()
    while not value:
        if time.monotonic() > deadline:
            state = describe() if describe is not None else value
            raise AssertionError(f"{message} not met within {timeout}s (last: {state!r})")
        time.sleep(interval)
        value = probe()
    return value


async def async_wait_until(probe: Callable[[], Awaitable[Any]], seconds: float = 20.0,
                           interval: float = 0.1, *, message: str = "condition") -> Any:
    """:func:`wait_until` for a test running on an event loop (a worker shares it)."""
    deadline = time.monotonic() + seconds
    value = await probe()
    while not value:
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} not met within {seconds}s (last: {value!r})")
        await asyncio.sleep(interval)
        value = await probe()
    return value


def unique_email(stem: str = "user") -> str:
    return f"{stem}{next(_counter)}.{time.time_ns()}@example.com"


# Gateway URL -> development mailbox URL, for every running stack whose notify worker mails
# (``Stack.start`` registers them): there, a signup's owner can confirm their address.
MAILBOXES: dict[str, str] = {}

CONFIRM_LINK = re.compile(r"https?://[^\s\"<>]*/confirm-email/([A-Za-z0-9_-]+)")
RECOVER_LINK = re.compile(r"https?://[^\s\"<>]*/recover/([A-Za-z0-9_-]+)")


def signup(gateway_url: str, name: str = "Ada Lovelace", *, verify: bool | None = None,
           email: str | None = None) -> dict:
    """A fresh workspace; returns the signup response with its API key.

    Its owner then confirms their address through the link mailed to it, as a user would
    (``verify``; by default whenever the stack's mailbox receives Pactra's mail): until then
    the workspace may send agreements only to its owner (api.md, "Account")."""
    email = email or unique_email()
    response = requests.post(gateway_url + "/v1/signup", json={
        "name": name, "email": email, "workspace_name": f"{name}'s workspace"}, timeout=10)
    assert response.status_code == 201, response.text
    mailbox = MAILBOXES.get(gateway_url.rstrip("/"))
    if verify is None:
        verify = mailbox is not None
    if verify:
        assert mailbox, f"no mailbox known for {gateway_url}: start its stack's notify-worker"
        confirm_email(gateway_url, mailbox, email)
    return response.json()


def emailed_token(mailbox_url: str, to: str, pattern: re.Pattern[str], *, timeout: float = 20.0,
                  skip: int = 0) -> str:
    """The token of the newest link matching ``pattern`` in mail to ``to`` (waiting for it);
    ``skip`` tokens already seen are passed over (a later email's link is wanted)."""
    def newest() -> str | None:
        response = requests.get(mailbox_url + "/api/messages", params={"to": to}, timeout=10)
        response.raise_for_status()
        found = [m for message in response.json() for m in pattern.findall(message.get("text") or "")]
        return found[0] if len(found) > skip else None

    return str(wait_until(newest, timeout=timeout))


def confirm_email(gateway_url: str, mailbox_url: str, email: str) -> dict:
    """Follow the confirmation link mailed to ``email``, as its page's button does."""
    token = emailed_token(mailbox_url, email, CONFIRM_LINK)
    response = requests.post(gateway_url + "/v1/account/confirm-email", json={"token": token},
                             timeout=10)
    assert response.status_code == 200, response.text
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
