"""Forwarding to the owning service: signed identity, bodies streamed both ways."""

from collections.abc import Iterable, Iterator
from typing import IO

import requests
from flask import Response, request, stream_with_context

from pactra_platform import internal_auth
from pactra_platform.problems import ProblemError
from pactra_platform.settings import Settings

FORWARDED_REQUEST_HEADERS = (
    "Content-Type", "Accept", "Accept-Language", "Range", "If-None-Match",
    "If-Modified-Since", "Idempotency-Key",
)
HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
    "transfer-encoding", "upgrade", "content-encoding",
}
CHUNK = 64 * 1024


class Forwarder:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # One pooled session per process; requests' Session is safe for this use across
        # gunicorn threads as long as no per-request state is set on it.
        self.http = requests.Session()

    def forward(self, service: str, identity: dict[str, str],
                body: bytes | IO[bytes] | Iterable[bytes] | None, *,
                buffer_response: bool = False) -> Response:
        path = request.full_path if request.query_string else request.path
        headers = {name: request.headers[name] for name in FORWARDED_REQUEST_HEADERS
                   if name in request.headers}
        headers.update(internal_auth.sign(self.settings.internal_secret, request.method, path, identity))
        try:
            upstream = self.http.request(
                request.method, self.settings.url_of(service) + path, headers=headers,
                data=body, stream=True, timeout=(5, 120), allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise ProblemError("bad_gateway", f"The {service} service did not answer.") from exc
        response_headers = [(name, value) for name, value in upstream.headers.items()
                            if name.lower() not in HOP_BY_HOP]
        if buffer_response:
            content = upstream.content
            upstream.close()
            response = Response(content, status=upstream.status_code)
            for name, value in response_headers:
                if name.lower() != "content-length":
                    response.headers[name] = value
            return response
        response = Response(
            stream_with_context(_relay(upstream)), status=upstream.status_code,
            headers=response_headers, direct_passthrough=True,
        )
        response.call_on_close(upstream.close)
        return response


def _relay(upstream: requests.Response) -> Iterator[bytes]:
    yield from upstream.raw.stream(CHUNK, decode_content=False)


class SizedStream:
    """The incoming body with its declared length, so ``requests`` sends it as it reads it,
    with a ``Content-Length`` (not chunked) that the service can check before reading."""

    def __init__(self, stream: IO[bytes], length: int) -> None:
        self._stream = stream
        self._length = length

    def __len__(self) -> int:
        return self._length

    def read(self, size: int = -1) -> bytes:
        return self._stream.read(size)


def request_body_stream() -> SizedStream | Iterator[bytes] | None:
    """The incoming body, streamed (``None`` for a bodiless request)."""
    if request.content_length is not None:
        return SizedStream(request.stream, request.content_length) if request.content_length else None
    if request.method in ("GET", "HEAD", "DELETE"):
        return None
    return iter(lambda: request.stream.read(CHUNK), b"")
