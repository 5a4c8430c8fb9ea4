"""The receiving side of signed internal calls, for every service's Flask app: the signature,
the nonce (once per window, across replicas) and the body against its signed SHA-256."""

import hashlib
import io
from typing import IO

from flask import Response, g, request

from . import internal_auth
from .nonces import NonceStore, NonceStoreUnavailable
from .problems import ProblemError, problem_response

# Bodies up to this size are read (and checked) before the handler runs; larger ones (only
# uploads are) stream through a hashing wrapper that checks at their last byte.
EAGER_BODY_BYTES = 1024 * 1024


def unauthorized(detail: str) -> ProblemError:
    return ProblemError("unauthorized", detail)


def check(verifier: internal_auth.Verifier, nonces: NonceStore) -> internal_auth.Signed:
    """Refuse (401) the current request unless it is a fresh call signed by its caller."""
    path = request.full_path if request.query_string else request.path
    signed = verifier.verify(request.method, path, request.headers)
    if signed is None:
        raise unauthorized("Internal calls must carry a valid signature.")
    _check_small_body(signed.body_sha256)
    try:
        fresh = nonces.claim(signed.calling_service, signed.nonce, signed.timestamp)
    except NonceStoreUnavailable as exc:
        raise ProblemError("unavailable", "Cannot check the call's nonce right now; retry.") from exc
    if not fresh:
        raise unauthorized("This signed call was already made once (its nonce is spent).")
    return signed


def refuse_if_body_mismatched(response: Response) -> Response:
    """After the handler: a body found not to be the signed one turns any answer into a 401,
    whatever the handler made of the error (a parser may have wrapped it)."""
    if g.get("body_mismatch"):
        return problem_response(_mismatch().problem)
    return response


def _mismatch() -> ProblemError:
    return unauthorized("The body is not the one that was signed.")


def _check_small_body(claimed: str) -> None:
    length = request.content_length
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if not length and not chunked:
        if claimed != internal_auth.EMPTY_SHA256:
            raise _mismatch()
        return
    if length is not None and length <= EAGER_BODY_BYTES:
        data = request.get_data(cache=True)
        if hashlib.sha256(data).hexdigest() != claimed:
            raise _mismatch()
        # get_data consumed the stream; handlers that read request.stream read the same bytes.
        request.stream = io.BytesIO(data)
        return
    request.stream = HashingStream(request.stream, claimed, length)


class HashingStream:
    """The request body, hashed as the handler reads it; when its last byte is read (the
    declared length, or EOF) before the handler sees it, a digest other than the signed one
    raises a 401 problem, so a handler that reads the whole body first (the documents upload
    does) never acts on a body that was not signed."""

    def __init__(self, stream: IO[bytes], claimed: str, length: int | None) -> None:
        self._stream = stream
        self._claimed = claimed
        self._remaining = length
        self._hash = hashlib.sha256()
        self._checked = False

    def read(self, size: int = -1) -> bytes:
        return self._account(self._stream.read(size), size)

    def readline(self, size: int = -1) -> bytes:
        return self._account(self._stream.readline(size), size)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._stream.close()

    def _account(self, chunk: bytes, size: int) -> bytes:
        if self._checked:
            return chunk
        self._hash.update(chunk)
        if self._remaining is not None:
            self._remaining -= len(chunk)
        if (self._remaining is not None and self._remaining <= 0) or (not chunk and size != 0):
            self._checked = True
            if self._hash.hexdigest() != self._claimed:
                g.body_mismatch = True
                raise _mismatch()
        return chunk
