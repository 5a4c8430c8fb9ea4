"""The one place where the gateway's domain errors (``domain/errors.py``) become problem
documents. A view that wants to say more than the default detail (which link, which field)
passes it to :func:`problem`; an error no view catches is answered here with its default."""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from flask import Flask, Response

from pactra_contracts.problems import FieldError
from pactra_gateway.domain.errors import (
    Conflict,
    Expired,
    GatewayError,
    InProgress,
    KeyReused,
    NameMismatch,
    NotFound,
    QuotaExceeded,
    Unverified,
)
from pactra_platform.problems import ProblemError, problem_response

# Most specific first: the first class an error is an instance of gives its code and default.
PROBLEMS: tuple[tuple[type[GatewayError], str, str], ...] = (
    (NotFound, "not_found", "No such thing here."),
    (Expired, "gone", "This link has expired; ask for a new one."),
    (Conflict, "conflict", "This conflicts with the current state."),
    (NameMismatch, "validation_error", "confirm must be the workspace's name, exactly."),
    (Unverified, "email_unverified", "The confirmation link goes to the owner's verified address: "
                                     "verify it first (POST /v1/account/verify-email)."),
    (KeyReused, "idempotency_key_reused", "This Idempotency-Key was used with a different request."),
    (InProgress, "idempotency_in_progress",
     "A request with this Idempotency-Key is still being processed."),
)


def problem(error: GatewayError, detail: str | None = None,
            errors: list[FieldError] | None = None) -> ProblemError:
    """``error`` as the problem to raise (``raise problem(exc, ...) from exc``)."""
    if isinstance(error, QuotaExceeded):
        return ProblemError("quota_exceeded", detail or error.explain(), errors,
                            quota=error.problem_fields())
    for kind, code, default in PROBLEMS:
        if isinstance(error, kind):
            return ProblemError(code, detail or default, errors)
    raise TypeError(f"no problem is named for {type(error).__name__}") from error


@contextmanager
def refusals(details: Mapping[type[GatewayError], str]) -> Iterator[None]:
    """Domain errors raised inside become problems, with the detail given for their kind (the
    first that matches), else their default."""
    try:
        yield
    except GatewayError as error:
        detail = next((text for kind, text in details.items() if isinstance(error, kind)), None)
        raise problem(error, detail) from error


def install(app: Flask) -> None:
    @app.errorhandler(GatewayError)
    def on_domain_error(error: GatewayError) -> Response:
        found = problem(error)
        return problem_response(found.problem, found.headers)
