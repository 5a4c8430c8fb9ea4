"""Forwarding to the owning service: a signed identity and body digest; request bodies are
spooled (memory, then disk) and hashed before they are sent, answers stream back."""

from collections.abc import Iterator
from typing import IO
from urllib.parse import quote

import urllib3
from flask import Response, request, stream_with_context

from pactra_platform import internal_auth
from pactra_platform.problems import ProblemError
from pactra_platform.settings import Settings

FORWARDED_REQUEST_HEADERS = (
    "Content-Type", "Accept", "Accept-Language", "Range", "If-None-Match",
    "If-Modified-Since", "Idempotency-Key", "Prefer",
    # The email provider's webhook signature (POST /v1/email-events/resend): notify checks it.
    "svix-id", "svix-timestamp", "svix-signature",
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
        self.signer = internal_auth.Signer.for_service(settings, "gateway")

    def forward(self, service: str, identity: dict[str, str], body: IO[bytes] | None,
                body_sha256: str = internal_auth.EMPTY_SHA256, body_size: int = 0, *,
                buffer_response: bool = False) -> Response:
        """``body`` is the spooled request body (``None``: none), of ``body_size`` bytes
        hashing to ``body_sha256``; the signature covers the digest."""
        path = request.full_path if request.query_string else request.path
        # A header sent several times goes on as one, its values comma-separated (RFC 9110).
        headers = {name: ", ".join(request.headers.getlist(name)) for name in FORWARDED_REQUEST_HEADERS
                   if name in request.headers}
        headers.update(self.signer.sign(service, request.method, path, identity, body_sha256))
        if body is not None:
            # Sent with its length (never chunked): the service checks it before reading.
            headers["Content-Length"] = str(body_size)
        try:
            upstream = self.http.request(
                request.method, self.settings.url_of(service) + _as_sent(), headers=headers, body=body,
                chunked=False, preload_content=False, redirect=False,
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


def _as_sent() -> str:
    """The request's target, encoded again: ``request.path`` is decoded, so a ``?`` or ``#``
    the client sent as ``%3F`` or ``%23`` in a path segment would otherwise end the path, and
    the service would see another route than the one the signature names. The query goes on
    as the client sent it."""
    target = quote(request.path, safe="/!$&'()*+,;=:@")
    return f"{target}?{request.query_string.decode('latin-1')}" if request.query_string else target
