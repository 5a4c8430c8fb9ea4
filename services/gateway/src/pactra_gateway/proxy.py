"""Forwarding to the owning service: signed identity, bodies streamed both ways."""

from collections.abc import Iterable, Iterator
from typing import IO

import urllib3
from flask import Response, request, stream_with_context

from pactra_platform import internal_auth
from pactra_platform.problems import ProblemError
from pactra_platform.settings import Settings

FORWARDED_REQUEST_HEADERS = (
    "Content-Type", "Accept", "Accept-Language", "Range", "If-None-Match",
    "If-Modified-Since", "Idempotency-Key", "Prefer",
)
HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
    "transfer-encoding", "upgrade", "content-encoding",
}
CHUNK = 64 * 1024
TIMEOUT = urllib3.Timeout(connect=5, read=120)
SMALL_BODY = 64 * 1024


class Forwarder:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # urllib3 itself rather than requests: the gateway needs none of requests' extras
        # (cookies, proxies from the environment, redirects), and they were a sixth of the
        # CPU of a forwarded GET. The pool is thread-safe and shared by gunicorn's threads.
        self.http = urllib3.PoolManager(maxsize=32, retries=False, timeout=TIMEOUT)

    def forward(self, service: str, identity: dict[str, str],
                body: bytes | IO[bytes] | Iterable[bytes] | None, *,
                buffer_response: bool = False) -> Response:
        path = request.full_path if request.query_string else request.path
        # A header sent several times goes on as one, its values comma-separated (RFC 9110).
        headers = {name: ", ".join(request.headers.getlist(name)) for name in FORWARDED_REQUEST_HEADERS
                   if name in request.headers}
        headers.update(internal_auth.sign(self.settings.internal_secret, request.method, path, identity))
        chunked = False
        if isinstance(body, SizedStream):
            headers["Content-Length"] = str(len(body))
        elif body is not None and not isinstance(body, bytes):
            chunked = True
        try:
            upstream = self.http.request(
                request.method, self.settings.url_of(service) + path, headers=headers, body=body,
                chunked=chunked, preload_content=False, redirect=False,
            )
        except urllib3.exceptions.HTTPError as exc:
            raise ProblemError("bad_gateway", f"The {service} service did not answer.") from exc
        response_headers = [(name, value) for name, value in upstream.headers.items()
                            if name.lower() not in HOP_BY_HOP]
        length = upstream.headers.get("Content-Length", "")
        small = request.method != "HEAD" and length.isdigit() and int(length) <= SMALL_BODY
        if buffer_response or small:
            # Most answers are a few KiB of JSON: handing them on whole costs less than
            # relaying them through a generator. Files (PDFs, images) stream.
            try:
                content = upstream.read(decode_content=False)
            except urllib3.exceptions.HTTPError as exc:
                raise ProblemError("bad_gateway", f"The {service} service broke off its answer.") from exc
            finally:
                _release(upstream)
            # Werkzeug sets the length of what it sends; repeated headers stay repeated.
            return Response(content, status=upstream.status, headers=[
                (name, value) for name, value in response_headers if name.lower() != "content-length"])
        response = Response(
            stream_with_context(_relay(upstream)), status=upstream.status,
            headers=response_headers, direct_passthrough=True,
        )
        response.call_on_close(lambda: _release(upstream))
        return response


def _relay(upstream: urllib3.BaseHTTPResponse) -> Iterator[bytes]:
    yield from upstream.stream(CHUNK, decode_content=False)


def _release(upstream: urllib3.BaseHTTPResponse) -> None:
    """Back to the pool; a connection whose body was not read to the end (the client went
    away) is closed first, so no later request reads the rest of this one."""
    if not upstream.isclosed():
        upstream.close()
    upstream.release_conn()


class SizedStream:
    """The incoming body with its declared length, sent as it is read, with a
    ``Content-Length`` (not chunked) that the service can check before reading."""

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
