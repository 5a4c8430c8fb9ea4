"""A local server speaking the OpenAI chat-completions HTTP API, scripted per test.

Each request pops the next scripted step: ``("json", obj)`` answers with ``obj`` as the message
content, ``("raw", text)`` with arbitrary content, ``("status", code)`` with an error, and
``("slow", seconds)`` sleeps, then answers as the default would; ``("gate", event)`` holds the
answer (as the default would make it) until the ``threading.Event`` is set, so a test can act
while a request is in flight. With the script empty, a callable ``default(request_body)`` decides.
"""

import contextlib
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeOpenAI:
    def __init__(self) -> None:
        self.script: list[tuple[str, object]] = []
        self.requests: list[dict] = []
        self.default: Callable[[dict], object] = lambda body: {"summary": {}, "clauses": []}
        self.tokens_per_answer = 100
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                # The client may have given up (a timeout test).
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._answer()

            def _answer(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                owner.requests.append(body)
                step = owner.script.pop(0) if owner.script else ("json", owner.default(body))
                if step[0] == "slow":
                    time.sleep(float(step[1]))
                    step = ("json", owner.default(body))
                if step[0] == "gate":
                    step[1].wait(timeout=60)
                    step = ("json", owner.default(body))
                if step[0] == "status":
                    payload = json.dumps({"error": {"message": "scripted", "type": "x"}}).encode()
                    self.send_response(int(step[1]))
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Retry-After", "0")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                content = json.dumps(step[1]) if step[0] == "json" else str(step[1])
                payload = json.dumps({
                    "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
                    "model": body.get("model", "test"),
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": content}}],
                    "usage": {"prompt_tokens": owner.tokens_per_answer - 10,
                              "completion_tokens": 10, "total_tokens": owner.tokens_per_answer},
                }).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def contract_text(self, index: int = -1) -> str:
        content = self.requests[index]["messages"][-1]["content"]
        return content.removeprefix("<contract>\n").removesuffix("\n</contract>")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
