"""Failed authentications and unknown signing links are limited per client IP."""

import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from pactra_devtools.stack import Stack
from pactra_devtools.testing import auth, request_from, signup

BAD_KEY = "pct_live_" + "a" * 46  # well formed in length, not a key


class UnknownTokens(BaseHTTPRequestHandler):
    """Stands in for the signing service, to which no token is known: 404 to everything."""

    def do_GET(self) -> None:  # the name http.server calls
        body = json.dumps({"type": "about:blank", "title": "Not found", "status": 404,
                           "detail": "No such signing link.", "code": "not_found"}).encode()
        self.send_response(404)
        self.send_header("Content-Type", "application/problem+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def locking_gateway():
    """The gateway alone, with tiny limits, and a stand-in signing service that knows no token
    (the gateway counts the signing service's 404s for /s/{token})."""
    platform = Stack.create({"PACTRA_AUTH_FAILURE_LIMIT_PER_IP": "3/minute",
                             "PACTRA_TOKEN_LOCKOUT": "2/hour"})
    signing = ThreadingHTTPServer(("127.0.0.1", platform.settings.port_of("signing")), UnknownTokens)
    threading.Thread(target=signing.serve_forever, daemon=True).start()
    try:
        platform.start("gateway")
        platform.wait_ready("gateway")
        yield platform.gateway_url
    finally:
        signing.shutdown()
        signing.server_close()
        platform.close()


def test_failed_authentications_lock_the_address_out_before_any_look_up(locking_gateway):
    account = signup(locking_gateway)  # public: not an authentication
    url = locking_gateway + "/v1/workspace"
    assert requests.get(url, headers=auth(account), timeout=10).status_code == 200
    attempts = [requests.get(url, headers=headers, timeout=10) for headers in (
        {"Authorization": f"Bearer {BAD_KEY}"}, {}, {"Authorization": "Basic abc"})]
    assert [a.status_code for a in attempts] == [401, 401, 401]
    # Every 401 says how many failures the address has left.
    assert [a.headers["RateLimit-Remaining"] for a in attempts] == ["2", "1", "0"]
    assert all(a.headers["RateLimit-Limit"] == "3" and int(a.headers["RateLimit-Reset"]) <= 60
               for a in attempts)
    # Past the limit, even a good key is refused until the window ends: the gateway cannot know
    # a key is good without looking it up, and it does not look up for this address any more.
    for headers in ({"Authorization": f"Bearer {BAD_KEY}"}, auth(account)):
        locked = requests.get(url, headers=headers, timeout=10)
        assert locked.status_code == 429, locked.text
        assert locked.json()["code"] == "rate_limited"
        assert 1 <= int(locked.headers["Retry-After"]) <= 60
    # Public routes are not authentications and stay open.
    assert requests.get(locking_gateway + "/v1/openapi.json", timeout=10).status_code == 200


def test_unknown_signing_tokens_lock_the_address_out_of_signer_pages(locking_gateway):
    tokens = [secrets.token_urlsafe(32) for _ in range(2)]
    answers = [requests.get(f"{locking_gateway}/s/{token}/info", timeout=10) for token in tokens]
    assert [a.status_code for a in answers] == [404, 404], [a.text for a in answers]
    for path in (f"/s/{secrets.token_urlsafe(32)}", f"/s/{tokens[0]}/info"):
        locked = requests.get(locking_gateway + path, timeout=10)
        assert locked.status_code == 429, locked.text
        assert locked.json()["code"] == "rate_limited"
        assert int(locked.headers["Retry-After"]) > 60  # the window is an hour
    # The API is not a signer page: it stays open to this address.
    assert requests.get(locking_gateway + "/v1/receipts/keys", timeout=10).status_code != 429


def test_a_lockout_by_a_workspaces_revoked_key_is_in_its_security_log(locking_gateway):
    account = signup(locking_gateway)  # public: open even to an address locked out
    owner = {**auth(account), "Content-Type": "application/json"}
    status, _, body = request_from("127.0.0.52", locking_gateway + "/v1/api-keys", "POST", owner,
                                   b'{"name": "leaked"}')
    assert status == 201, body
    leaked = json.loads(body)
    status, _, _ = request_from("127.0.0.52", f"{locking_gateway}/v1/api-keys/{leaked['id']}", "DELETE",
                                owner)
    assert status == 204
    # Someone keeps using the revoked key from another address, until it is locked out.
    statuses = [request_from("127.0.0.51", locking_gateway + "/v1/workspace", "GET",
                             {"Authorization": f"Bearer {leaked['key']}"})[0] for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    status, _, body = request_from("127.0.0.52", locking_gateway + "/v1/security-events", "GET", owner)
    assert status == 200, body
    events = json.loads(body)["data"]
    locked = [e for e in events if e["type"] == "auth.locked_out"]
    assert len(locked) == 1 and locked[0]["ip"] == "127.0.0.51"
    assert [e["type"] for e in events][:2] == ["auth.locked_out", "api_key.revoked"]
