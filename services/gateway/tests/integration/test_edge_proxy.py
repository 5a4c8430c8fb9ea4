"""nginx in front of the gateway (as `make run` and production have it): slow clients wait on
nginx, connections are capped per client address, the gateway sees the client's address and
not a spoofed one, /metrics stays on the operator's side, and answers are never sniffed."""

import contextlib
import json
import socket
import threading
import time
from urllib.parse import urlsplit

import requests

from pactra_devtools.testing import auth, request_from, signup, wait_until

SLOW_IP = "127.0.0.2"


def _slow_upload(port: int) -> socket.socket:
    """A client that sent its headers and then sends its body a byte at a time."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(SLOW_IP, 0))
    sock.sendall(b"POST /v1/signup HTTP/1.1\r\nHost: pactra\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 1000\r\n\r\n{")
    return sock


def test_slow_clients_wait_on_nginx_and_a_normal_client_is_answered(stack, gateway):
    account = signup(gateway)
    limit = stack.settings.edge_max_connections_per_ip
    slow = [_slow_upload(urlsplit(gateway).port) for _ in range(limit)]
    stop = threading.Event()

    def drip() -> None:
        while not stop.wait(1.0):
            for sock in slow:
                with contextlib.suppress(OSError):
                    sock.send(b" ")

    dripping = threading.Thread(target=drip, daemon=True)
    dripping.start()
    try:
        # Once nginx has read every slow client's headers, the next connection from that
        # address is over the per-IP limit: a problem document, 429.
        def refused() -> bool:
            status, _headers, body = request_from(SLOW_IP, gateway + "/healthz")
            return status == 429 and json.loads(body)["code"] == "rate_limited"

        wait_until(refused, timeout=20)
        # The gateway has 16 threads; 64 bodies trickling in would hold all of them without nginx.
        started = time.monotonic()
        answer = requests.get(gateway + "/v1/workspace", headers=auth(account), timeout=5)
        assert answer.status_code == 200, answer.text
        assert time.monotonic() - started < 5
        # The slow clients are still connected, waiting for an answer nginx has not given.
        for sock in slow:
            sock.settimeout(0.05)
            try:
                got = sock.recv(1)
            except TimeoutError:
                continue
            raise AssertionError(f"a slow client was answered or dropped before its body was in: {got!r}")
    finally:
        stop.set()
        dripping.join()
        for sock in slow:
            sock.close()
    wait_until(lambda: request_from(SLOW_IP, gateway + "/healthz")[0] == 200, timeout=20)


def _remaining(source_ip: str, url: str, headers: dict[str, str] | None = None) -> tuple[int, int]:
    status, answer_headers, _ = request_from(source_ip, url, headers=headers)
    assert status == 200, status
    return int(answer_headers["RateLimit-Remaining"]), int(answer_headers["RateLimit-Reset"])


def test_the_gateway_counts_the_clients_address_not_what_it_claims(gateway):
    url = gateway + "/v1/receipts/keys"  # a public route: limited per client IP
    for _ in range(3):  # a fixed window may turn over between two requests: then measure again
        first, _ = _remaining("127.0.0.3", url)
        spoofed, _ = _remaining("127.0.0.3", url, {"X-Forwarded-For": "10.9.9.9", "X-Real-IP": "10.9.9.9"})
        other, _ = _remaining("127.0.0.4", url)
        if spoofed < first:
            break
    # The spoofed request counted against 127.0.0.3's budget, and 127.0.0.4 has its own:
    # the gateway sees each client's address through nginx, not nginx's and not a claimed one.
    assert spoofed == first - 1
    assert other > spoofed


def test_metrics_are_not_served_on_the_public_port(stack, gateway):
    public = requests.get(gateway + "/metrics", timeout=10)
    assert public.status_code == 404
    assert public.headers["Content-Type"] == "application/problem+json"
    assert "pactra_http_requests_total" not in public.text
    direct = requests.get(stack.direct_gateway_url + "/metrics", timeout=10)
    assert direct.status_code == 200 and "pactra_http_requests_total" in direct.text
    assert "RateLimit-Remaining" in direct.headers


def test_answers_through_the_edge_are_never_sniffed(gateway):
    account = signup(gateway)
    answers = [
        requests.get(gateway + "/v1/workspace", headers=auth(account), timeout=10),
        requests.get(gateway + "/v1/workspace", timeout=10),  # a problem document
        requests.get(gateway + "/v1/receipts/keys", timeout=10),  # forwarded to a service
        requests.get(gateway + "/metrics", timeout=10),  # nginx's own problem
    ]
    for answer in answers:
        assert answer.headers["X-Content-Type-Options"] == "nosniff", answer.url
        assert "Strict-Transport-Security" not in answer.headers  # the platform is on http here


def test_docs_page_cannot_be_framed_and_runs_only_its_own_scripts(gateway):
    page = requests.get(gateway + "/docs", timeout=10)
    assert page.status_code == 200
    policy = page.headers["Content-Security-Policy"]
    for directive in ("frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"):
        assert directive in policy
    nonce = policy.split("'nonce-", 1)[1].split("'", 1)[0]
    assert f'<script nonce="{nonce}">' in page.text
    assert page.headers["X-Frame-Options"] == "DENY"
