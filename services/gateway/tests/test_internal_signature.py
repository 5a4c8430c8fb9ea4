"""Services answer only calls the gateway (or a peer) signed."""

import time

import pytest
import requests

from pactra_platform import internal_auth
from pactra_platform.settings import SERVICES

INTERNAL = [s for s in SERVICES if s != "gateway"]


@pytest.mark.parametrize("service", INTERNAL)
def test_unsigned_and_stale_calls_are_401(stack, service):
    base = stack.settings.url_of(service)
    unsigned = requests.get(base + "/v1/anything", timeout=10)
    assert unsigned.status_code == 401
    assert unsigned.json()["code"] == "unauthorized"

    identity = {internal_auth.CALLER: "gateway", internal_auth.WORKSPACE: "ws_x"}
    secret = stack.settings.internal_secret
    stale = internal_auth.sign(secret, "GET", "/v1/anything", identity, now=time.time() - 120)
    assert requests.get(base + "/v1/anything", headers=stale, timeout=10).status_code == 401
    forged = internal_auth.sign("not-the-secret" * 4, "GET", "/v1/anything", identity)
    assert requests.get(base + "/v1/anything", headers=forged, timeout=10).status_code == 401
    # Signed for one path, replayed on another.
    other = internal_auth.sign(secret, "GET", "/v1/other", identity)
    assert requests.get(base + "/v1/anything", headers=other, timeout=10).status_code == 401

    valid = internal_auth.sign(secret, "GET", "/v1/anything", identity)
    assert requests.get(base + "/v1/anything", headers=valid, timeout=10).status_code == 404


@pytest.mark.parametrize("service", SERVICES)
def test_operations_endpoints_need_no_signature(stack, service):
    base = stack.settings.url_of(service)
    assert requests.get(base + "/healthz", timeout=10).json()["status"] == "ok"
    ready = requests.get(base + "/readyz", timeout=10)
    assert ready.status_code == 200, ready.text
    assert "database" in ready.json()["checks"] and "broker" in ready.json()["checks"]
    metrics = requests.get(base + "/metrics", timeout=10)
    assert "pactra_http_requests_total" in metrics.text
