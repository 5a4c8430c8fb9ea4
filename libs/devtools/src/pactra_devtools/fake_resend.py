"""A local stand-in for Resend's HTTP API on 127.0.0.1, for tests: ``POST /emails`` with the
bearer key answers ``{"id": ...}`` as Resend does (429/5xx first when scripted), and records
every request. Point ``PACTRA_RESEND_BASE_URL`` at its ``url``."""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RESEND_KEY = "re_test_" + "k" * 24


@dataclass
class FakeResend:
    """What it received, and what it is told to answer first (then it answers like Resend)."""

    url: str
    requests: list[dict] = field(default_factory=list)
    # status codes to answer, in order, before accepting; e.g. [429] = throttle once
    script: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self, script: list[int] | None = None) -> None:
        with self.lock:
            self.requests.clear()
            self.script[:] = script or []

    def accepted(self) -> list[dict]:
        """The emails it took, each with its request ``body`` and the ``id`` it answered."""
        with self.lock:
            return [r for r in self.requests if r["status"] == 200]


def _resend_handler(fake: FakeResend) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _answer(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            record = {"path": self.path, "headers": dict(self.headers), "status": 0}
            with fake.lock:
                fake.requests.append(record)
                scripted = fake.script.pop(0) if fake.script else None
                number = len(fake.requests)
            if self.path != "/emails":
                record["status"] = 404
                return self._answer(404, {"statusCode": 404, "name": "not_found", "message": "no route"})
            if self.headers.get("Authorization") != f"Bearer {RESEND_KEY}":
                record["status"] = 401
                return self._answer(401, {"statusCode": 401, "name": "missing_api_key",
                                          "message": "API key is invalid"})
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            if not isinstance(body, dict) or not {"from", "to", "subject"} <= body.keys():
                record["status"] = 422
                return self._answer(422, {"statusCode": 422, "name": "validation_error",
                                          "message": "Missing `to` field."})
            record["body"] = body
            if scripted is not None:
                record["status"] = scripted
                return self._answer(scripted, {"statusCode": scripted, "name": "rate_limit_exceeded",
                                               "message": "Too many requests."}, {"Retry-After": "0"})
            record["id"] = f"4ef9a417-02e9-4d39-ad75-{number:012d}"
            record["status"] = 200
            return self._answer(200, {"id": record["id"]})

    return Handler


@contextmanager
def running_fake_resend() -> Iterator[FakeResend]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), None)  # type: ignore[arg-type]
    fake = FakeResend(url=f"http://127.0.0.1:{server.server_address[1]}")
    server.RequestHandlerClass = _resend_handler(fake)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
