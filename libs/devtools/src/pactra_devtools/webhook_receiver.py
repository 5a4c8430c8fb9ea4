"""A webhook receiver on 127.0.0.1 for tests and the benchmark: it records every request
(headers, body, when), verifies signatures with the ``standardwebhooks`` library when given
secrets, and answers from a script (status codes, extra headers, a delay)."""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    delay: float = 0.0


@dataclass
class Receiver:
    url: str
    port: int
    received: list[Received] = field(default_factory=list)
    # Replies to give, in order; then ``default``.
    script: list[Reply] = field(default_factory=list)
    default: Reply = field(default_factory=Reply)
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def requests(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    def of(self, webhook_id: str) -> list[Received]:
        return [r for r in self.requests() if r.headers.get("webhook-id") == webhook_id]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def setup(self) -> None:
            super().setup()
            with receiver.lock:
                receiver.connections += 1

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with receiver.lock:
                receiver.received.append(Received(
                    self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.time()))
                reply = receiver.script.pop(0) if receiver.script else receiver.default
            if reply.delay:
                time.sleep(reply.delay)
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

    return Handler


@contextmanager
def running_receiver(host: str = "127.0.0.1") -> Iterator[Receiver]:
    server_class = ThreadingHTTPServer
    if ":" in host:
        import socket

        class V6(ThreadingHTTPServer):
            address_family = socket.AF_INET6

        server_class = V6
    server = server_class((host, 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    shown = f"[{host}]" if ":" in host else host
    receiver = Receiver(url=f"http://{shown}:{port}", port=port)
    server.RequestHandlerClass = _handler(receiver)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
