"""Rate limits per API key and per client IP, with their headers."""

import json

import pytest
import requests

from pactra_devtools.stack import Stack
from pactra_devtools.testing import auth, request_from, signup


@pytest.fixture(scope="module")
def strict_platform():
    """A gateway alone (no other service is needed) with tiny limits, behind nginx."""
    platform = Stack.create({"PACTRA_RATE_LIMIT_PER_KEY": "3/minute",
                             "PACTRA_RATE_LIMIT_PER_IP": "4/minute"})
    try:
        platform.start("gateway")
        platform.wait_ready("gateway")
        yield platform
    finally:
        platform.close()


@pytest.fixture(scope="module")
def strict_gateway(strict_platform):
    return strict_platform.gateway_url


def test_per_key_limit_answers_429_with_headers(strict_gateway):
    account = signup(strict_gateway)
    answers = [requests.get(strict_gateway + "/v1/workspace", headers=auth(account), timeout=10)
               for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert all(a.headers["RateLimit-Limit"] == "3" for a in answers)
    limited = answers[-1]
    assert limited.json()["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert 0 <= int(limited.headers["RateLimit-Reset"]) <= 60
    # Another key of another workspace has its own budget.
    other = signup(strict_gateway, "Other")
    assert requests.get(strict_gateway + "/v1/workspace", headers=auth(other), timeout=10).status_code == 200


def test_public_routes_are_limited_per_ip(strict_gateway):
    statuses = [requests.get(strict_gateway + "/v1/openapi.json", timeout=10).status_code
                for _ in range(6)]
    assert statuses[-1] == 429
    assert 200 in statuses


@pytest.mark.parametrize(("path", "source_ip"), [("/readyz", "127.0.0.6"), ("/metrics", "127.0.0.7")])
def test_operations_routes_are_limited_per_ip(strict_platform, path, source_ip):
    """/readyz (a database and broker round trip) and /metrics cannot be used to load the
    gateway: each client address gets the per-IP rate on them, counted apart from its API calls."""
    url = strict_platform.direct_gateway_url + path
    answers = [request_from(source_ip, url) for _ in range(5)]
    assert [status for status, _, _ in answers] == [200, 200, 200, 200, 429]
    assert json.loads(answers[-1][2])["code"] == "rate_limited"
    assert int(answers[-1][1]["Retry-After"]) >= 1
    # Another address has its own budget.
    assert request_from("127.0.0.8", url)[0] == 200
