"""What the gateway does to every public request before routing it: authenticate, rate
limit, bound the body, and apply ``Idempotency-Key``."""

import hashlib
import logging
import tempfile
import time
from typing import IO, NoReturn

from flask import Flask, Response, g, request

from pactra_contracts.events import Actor
from pactra_gateway.adapters import security_log
from pactra_gateway.bootstrap import Gateway
from pactra_gateway.domain.errors import InProgress, KeyReused
from pactra_gateway.domain.idempotency import MAX_PATH_LENGTH, Claim, Replay, well_formed_key
from pactra_gateway.entrypoints import quota_gate, routing
from pactra_gateway.entrypoints.errors import problem
from pactra_gateway.service_layer import accounts
from pactra_platform.problems import ProblemError

log = logging.getLogger(__name__)

EDGE_PREFIXES = ("/v1", "/s/", "/verify", "/docs", "/confirm-email", "/recover")
LIMITED_OPERATIONS = ("/readyz", "/metrics")
SPOOL_IN_MEMORY = 1024 * 1024  # uploads above this spool to disk, never whole in memory


def install(app: Flask, gw: Gateway) -> None:
    @app.before_request
    def guard() -> Response | None:
        if request.path in LIMITED_OPERATIONS:
            g.rate_verdict = gw.rate_limits.check_operations(client_ip())
            if not g.rate_verdict.allowed:
                raise ProblemError("rate_limited", "Too many requests; retry after the window resets.",
                                   headers=g.rate_verdict.headers())
            return None
        if not request.path.startswith(EDGE_PREFIXES):
            return None
        g.caller = None
        g.claim = None
        g.body = None
        public = routing.is_public(request.method, request.path)
        if not public:
            g.caller = _authenticate(gw)
            if not g.caller.livemode and routing.live_keys_only(request.method, request.path):
                raise ProblemError("forbidden", "A test key cannot do this; use a live key.")
        verdict = (gw.rate_limits.check_key(g.caller.api_key_id,
                                            gw.usage.catalogue.get(g.caller.plan).rate_limit_per_key)
                   if g.caller else gw.rate_limits.check_ip(client_ip()))
        g.rate_verdict = verdict
        if not verdict.allowed:
            raise ProblemError("rate_limited", "Too many requests; retry after the window resets.",
                               headers=verdict.headers())
        _refuse_nul()
        if g.caller:
            # Counted in memory, added to the workspace's counters every few seconds
            # (usage.RequestCounter): billed, never refused.
            gw.requests.count(g.caller.workspace_id)
        _bound_body(gw)
        if g.caller and request.method == "POST" and "Idempotency-Key" in request.headers:
            return _idempotency(gw)
        if request.content_length is None and "chunked" in request.headers.get("Transfer-Encoding", ""):
            # A body of unknown length is spooled (within the limit) before it is forwarded,
            # so the service sees a Content-Length and an oversized body is refused here, 413,
            # rather than cut off mid-stream.
            spool_body(gw)
        return None

    @app.after_request
    def finish(response: Response) -> Response:
        # A quota reservation not yet settled by the forward (the request was refused, 4xx,
        # before it was forwarded, or the forward failed): given back unless the work was done.
        quota_gate.settle(gw, g.pop("reservation", None), response.status_code)
        if (timing := g.get("auth_timing")) is not None:
            # What the key look-up took (with a send's quota decision, when it was made there),
            # beside the quota gate's own part: for the client to see, and make bench to measure.
            given = response.headers.get("Server-Timing")
            response.headers["Server-Timing"] = (f'auth;dur={timing[0]:.3f};desc="{timing[1]}"'
                                                 + (f", {given}" if given else ""))
        verdict = g.get("rate_verdict")
        if verdict is not None:
            response.headers.update(verdict.headers())
        claim = g.get("claim")
        if claim is not None:
            if response.status_code >= 500:
                gw.idempotency.release(claim)
            else:
                response.direct_passthrough = False
                gw.idempotency.complete(claim, response.status_code, dict(response.headers),
                                        response.get_data())
        return response

    @app.teardown_request
    def close_spool(_exc: BaseException | None) -> None:
        body = g.get("body")
        if hasattr(body, "close"):
            body.close()


def client_ip() -> str:
    # The address nginx (or the ingress) saw: ProxyFix (app.py) has already put it here.
    return request.remote_addr or "unknown"


def actor() -> Actor:
    caller = g.get("caller")
    if caller:
        return Actor(kind="api_key", id=caller.api_key_id, ip=client_ip(),
                     user_agent=request.user_agent.string or None)
    return Actor(kind="user", id="anonymous", ip=client_ip(), user_agent=request.user_agent.string or None)


def _authenticate(gw: Gateway) -> accounts.Caller:
    # An address that failed too often lately is refused before its key is looked up: guessing
    # keys costs the guesser a window, and the database nothing.
    failures = gw.rate_limits.peek_auth_failures(client_ip())
    if not failures.allowed:
        raise ProblemError("rate_limited", "Too many failed authentications from this address; "
                           "retry after the window resets.", headers=failures.headers())
    header = request.headers.get("Authorization", "")
    scheme, _, presented = header.partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        _refuse(gw, "Send your API key as `Authorization: Bearer <key>`.", 'Bearer realm="pactra"')
    started = time.perf_counter()
    ask = quota_gate.decided_with_key(gw)
    if ask is None:
        caller = accounts.authenticate(presented.strip(), gw.uow())
    else:
        # A live send: its quota decision made in the key's look-up (one round trip); held in
        # g until the request's answer says whether to give it back (finish, below).
        caller, g.reservation = accounts.authenticate_reserving(presented.strip(), gw.uow(), ask)
    took = (time.perf_counter() - started) * 1000
    if caller is None:
        _refuse(gw, "The API key is invalid or has been revoked.",
                'Bearer realm="pactra", error="invalid_token"')
    g.auth_timing = (took, "API key and quota decision" if g.get("reservation") else "API key")
    return caller


def _refuse(gw: Gateway, detail: str, challenge: str) -> NoReturn:
    """401, counted against the address; its RateLimit-* headers say how many failures are left."""
    failures = gw.rate_limits.count_auth_failure(client_ip())
    if failures.allowed and failures.remaining == 0:
        _record_lockout(gw)
    headers = {name: value for name, value in failures.headers().items() if name != "Retry-After"}
    raise ProblemError("unauthorized", detail, headers={"WWW-Authenticate": challenge, **headers})


def _record_lockout(gw: Gateway) -> None:
    """This failure used the address's last allowance: from the next request it is locked out.
    When the key it presented is one of a workspace's (a revoked key still in use, say), that
    workspace's security log says so; a made-up key concerns no workspace, and the log line
    is the operator's record."""
    _, _, presented = request.headers.get("Authorization", "").partition(" ")
    workspace_id = accounts.workspace_of_key(presented.strip(), gw.uow())
    log.warning("address locked out after failed authentications",
                extra={"client_ip": client_ip(), "workspace_id": workspace_id})
    if workspace_id is None:
        return
    with gw.uow() as uow:
        security_log.record(uow, workspace_id, "auth.locked_out", actor(), client_ip(),
                            {"reason": "failed_authentications",
                             "limit": gw.settings.auth_failure_limit_per_ip})
        uow.commit()


def _refuse_nul() -> None:
    """PostgreSQL's text cannot hold a NUL, so an id or a cursor carrying one matches nothing:
    refused here, as what it is, rather than as a database error in whichever service it
    reaches (Schemathesis found a cursor of `GET /v1/exports` answering 500)."""
    if "\x00" in request.path:
        raise ProblemError("not_found", "No such object.")
    if routing.is_upload(request.method, request.path):
        return  # an upload's ?filename= is cleaned of control characters by documents, not refused
    if any("\x00" in key or "\x00" in value for key, value in request.args.items(multi=True)):
        raise ProblemError("validation_error", "A query parameter contains a NUL character.")


def _body_limit(gw: Gateway) -> int:
    return (gw.settings.max_upload_bytes if routing.is_upload(request.method, request.path)
            else gw.settings.max_json_bytes)


def _bound_body(gw: Gateway) -> None:
    limit = _body_limit(gw)
    length = request.content_length
    if length is not None and length > limit:
        raise too_large(limit)


# What is read and dropped of a refused body at most: nginx in front bounds every body to the
# largest upload anyway (client_max_body_size), so this only bounds a client that reaches the
# gateway directly.
DRAIN_AT_MOST = 64 * 1024 * 1024


def too_large(limit: int) -> ProblemError:
    """The 413 for a body over ``limit``, once the rest of it is read and dropped: gunicorn
    closes the connection after an error answer, and closing with the body still unread resets
    it, so nginx, still writing the body it buffered, would answer 502 instead of this 413."""
    drained = 0
    while drained < DRAIN_AT_MOST and (chunk := request.stream.read(64 * 1024)):
        drained += len(chunk)
    return ProblemError("payload_too_large", f"The body is larger than {limit} bytes.")


def _idempotency(gw: Gateway) -> Response | None:
    key = request.headers["Idempotency-Key"]
    if not well_formed_key(key):
        raise ProblemError("validation_error", "Idempotency-Key must be 1 to 255 visible ASCII characters.")
    if len(request.path) > MAX_PATH_LENGTH:
        raise ProblemError("uri_too_long", f"The path is longer than {MAX_PATH_LENGTH} characters.")
    spool_body(gw)
    digest, size = g.body_sha256, g.body_size
    fingerprint = hashlib.sha256(
        "\n".join([request.method, request.path, request.query_string.decode(errors="replace"),
                   request.mimetype or "", str(size), digest]).encode()
    ).hexdigest()
    try:
        outcome = gw.idempotency.begin(g.caller.workspace_id, key, request.method, request.path,
                                       fingerprint)
    except (KeyReused, InProgress) as exc:
        raise problem(exc) from exc
    if isinstance(outcome, Replay):
        response = Response(outcome.body, status=outcome.status, headers=outcome.headers)
        response.headers["Idempotent-Replayed"] = "true"
        return response
    assert isinstance(outcome, Claim)
    g.claim = outcome
    return None


def spool_body(gw: Gateway) -> None:
    """The body spooled as ``g.body``, with its SHA-256 and size (the forwarded request's
    signature covers the digest, so the whole body is read before it is forwarded)."""
    g.body, g.body_sha256, g.body_size = _read_body(gw)


def _read_body(gw: Gateway) -> tuple[IO[bytes], str, int]:
    """Spool the body (memory up to 1 MiB, then disk) while hashing it, within the limit."""
    limit = _body_limit(gw)
    # Handed to the request (g.body) and closed in teardown, not here.
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
    digest = hashlib.sha256()
    size = 0
    while chunk := request.stream.read(64 * 1024):
        size += len(chunk)
        if size > limit:
            spool.close()
            raise too_large(limit)
        digest.update(chunk)
        spool.write(chunk)
    spool.seek(0)
    return spool, digest.hexdigest(), size
