"""The HTTP skeleton every service shares: request ids, internal-signature checks, problem
documents for every error, JSON logs, and ``/healthz``, ``/readyz``, ``/metrics``."""

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from werkzeug.exceptions import HTTPException

from pactra_contracts.problems import Problem

from . import internal_auth, key_check, logs, signed_requests
from .db import is_unavailable
from .nonces import nonce_store
from .problems import ProblemError, problem_response
from .settings import Settings

# A request id names usage a request reserves ("upload:<id>", "analysis:<id>": the gateway's
# usage_records.source_id holds 200 characters); a longer one supplied is replaced.
MAX_REQUEST_ID = 128

log = logging.getLogger(__name__)

OPERATIONS_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
REQUESTS = Counter(
    "pactra_http_requests_total", "HTTP requests answered", ["service", "method", "route", "status"]
)
LATENCY = Histogram(
    "pactra_http_request_seconds", "HTTP request latency", ["service", "method", "route"]
)
# What a 503 for a database that is briefly away (a restart, a failover) tells clients.
DATABASE_RETRY_AFTER_SECONDS = 2
HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 410: "gone", 413: "payload_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type", 422: "validation_error", 429: "rate_limited",
}


@dataclass(frozen=True)
class Identity:
    """Who is calling, as the gateway (or a peer service) vouched for it."""

    workspace_id: str | None
    api_key_id: str | None
    calling_service: str | None
    client_ip: str | None
    user_agent: str | None
    # The API key's mode (api.md, "Test mode"): True live, False test, None when no key
    # stands behind the call (a public route, a service calling as itself): then the
    # credential of the call itself decides what it reaches.
    livemode: bool | None = None


def current_identity() -> Identity:
    return g.identity


def require_workspace() -> str:
    workspace_id = current_identity().workspace_id
    if not workspace_id:
        raise ProblemError("unauthorized", "This route needs a workspace's API key.")
    return workspace_id


def livemode_filter() -> bool | None:
    """The mode a request's lists and reads are scoped to: True (live objects only), False
    (test objects only), or None (no key behind the call: not scoped by mode)."""
    return current_identity().livemode


def mode_of_new_objects() -> bool:
    """The livemode of what a request makes: a test key makes test objects; everything
    else (a live key, or a service calling as itself) makes live ones."""
    return current_identity().livemode is not False


def new_request_id() -> str:
    return f"req_{uuid.uuid4().hex}"


def create_service_app(
    service: str,
    settings: Settings,
    readiness: dict[str, Callable[[], None]],
    *,
    verify_signature: bool = True,
) -> Flask:
    """A Flask app with Pactra's conventions; the service adds its blueprints to it."""
    logs.configure_logging(service, settings.log_level)
    key_check.refuse_to_start_on_mismatch(settings, service)
    app = Flask(f"pactra_{service}")
    app.config["SETTINGS"] = settings
    app.json.sort_keys = False
    # Browsers are told to use only HTTPS once the platform is published over HTTPS.
    hsts = settings.public_url.lower().startswith("https://")
    if verify_signature:
        verifier = internal_auth.Verifier.for_service(settings, service)
        nonces = nonce_store(settings, service)

    @app.before_request
    def start() -> None:
        g.started = time.perf_counter()
        supplied = request.headers.get(internal_auth.REQUEST_ID, "")
        g.request_id = (supplied if 0 < len(supplied) <= MAX_REQUEST_ID and supplied.isprintable()
                        else new_request_id())
        logs.request_id.set(g.request_id)
        if request.path in OPERATIONS_PATHS or not verify_signature:
            g.identity = Identity(None, None, None, None, None)
            return
        signed_requests.check(verifier, nonces)
        g.identity = Identity(
            workspace_id=request.headers.get(internal_auth.WORKSPACE) or None,
            api_key_id=request.headers.get(internal_auth.API_KEY_ID) or None,
            calling_service=request.headers.get(internal_auth.CALLER) or None,
            client_ip=request.headers.get(internal_auth.CLIENT_IP) or None,
            user_agent=request.headers.get(internal_auth.USER_AGENT) or None,
            livemode={"true": True, "false": False}.get(request.headers.get(internal_auth.LIVEMODE, "")),
        )

    @app.after_request
    def finish(response: Response) -> Response:
        response = signed_requests.refuse_if_body_mismatched(response)
        response.headers.setdefault(internal_auth.REQUEST_ID, g.get("request_id") or "")
        # No response is ever to be sniffed into another type (a PDF or JSON rendered as HTML).
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if hsts:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        route = request.url_rule.rule if request.url_rule else "<unmatched>"
        REQUESTS.labels(service, request.method, route, response.status_code).inc()
        if "started" in g:
            LATENCY.labels(service, request.method, route).observe(time.perf_counter() - g.started)
        return response

    @app.errorhandler(ProblemError)
    def on_problem(exc: ProblemError) -> Response:
        return problem_response(exc.problem, exc.headers)

    @app.errorhandler(HTTPException)
    def on_http_error(exc: HTTPException) -> Response:
        code = HTTP_CODES.get(exc.code or 500, "bad_request" if (exc.code or 500) < 500 else "internal")
        problem = Problem.of(code, exc.description or "")
        problem.status = exc.code or problem.status
        headers = {}
        if getattr(exc, "valid_methods", None):
            headers["Allow"] = ", ".join(exc.valid_methods)
        return problem_response(problem, headers)

    @app.errorhandler(Exception)
    def on_unexpected(exc: Exception) -> Response:
        if is_unavailable(exc):
            # The database restarted or failed over under this request, and the statement
            # was not one that is safe to repeat: the caller tries again shortly (a write
            # with its Idempotency-Key has then happened once, or not at all).
            log.warning("database unavailable", extra={"error": type(exc).__name__})
            return problem_response(
                Problem.of("unavailable", "The database is briefly unavailable; try again."),
                {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)})
        log.exception("unhandled error")
        return problem_response(
            Problem.of("internal", f"Something went wrong on our side (request {g.get('request_id')}).")
        )

    dispatch = app.dispatch_request

    def dispatch_retrying_reads() -> object:
        """A read whose connection died under it (the database restarted or failed over) runs
        once more, on a new connection: it changed nothing, so repeating it is safe."""
        try:
            return dispatch()
        except Exception as exc:
            if request.method not in ("GET", "HEAD") or not is_unavailable(exc):
                raise
            log.warning("database connection lost during a read; retried once",
                        extra={"error": type(exc).__name__})
            return dispatch()

    app.dispatch_request = dispatch_retrying_reads  # type: ignore[method-assign]

    @app.get("/healthz")
    def healthz() -> dict:
        return {"status": "ok", "service": service}

    @app.get("/readyz")
    def readyz() -> tuple[dict, int]:
        results = {}
        for name, check in readiness.items():
            try:
                check()
                results[name] = "ok"
            except Exception as exc:
                results[name] = f"failing: {type(exc).__name__}"
        ready = all(value == "ok" for value in results.values())
        return {"status": "ready" if ready else "not_ready", "checks": results}, 200 if ready else 503

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)

    return app


def create_internal_app(service: str, settings: Settings, *, uses_storage: bool) -> Flask:
    """An internal service's app: signed calls only, ready when its database, the broker and
    (where it stores objects) its bucket answer, and its worker consumes each of its queues."""
    from . import readiness
    from .storage import bucket_name

    settings.require_secrets(service)
    checks = {"database": readiness.database(settings, service),
              "broker": readiness.broker(settings, service, consumed=True)}
    if uses_storage:
        checks["storage"] = readiness.storage(settings, bucket_name(settings, service))
    return create_service_app(service, settings, readiness=checks)
