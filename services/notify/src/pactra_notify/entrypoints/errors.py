"""The one place notify's domain errors become problem documents (RFC 9457)."""

from flask import Flask, Response

from pactra_contracts.problems import FieldError, Problem
from pactra_platform.problems import problem_response

from ..domain.errors import (
    BadCursor,
    DeliveryInFlight,
    EndpointLimitReached,
    NotFound,
    NotifyError,
    RefusedUrl,
    ReplayedReport,
)


def problem_of(error: NotifyError) -> Problem:
    detail = str(error)
    if isinstance(error, NotFound):
        return Problem.of("not_found", detail)
    if isinstance(error, EndpointLimitReached | DeliveryInFlight):
        return Problem.of("conflict", detail)
    if isinstance(error, RefusedUrl):
        return Problem.of("validation_error", f"This URL can never receive webhooks: {detail}.",
                          [FieldError(field="url", message=detail)])
    if isinstance(error, BadCursor):
        return Problem.of("validation_error", detail)
    if isinstance(error, ReplayedReport):
        return Problem.of("bad_request", detail)
    raise TypeError(f"no problem is defined for {type(error).__name__}") from error


def register(app: Flask) -> None:
    @app.errorhandler(NotifyError)
    def on_refusal(error: NotifyError) -> Response:
        return problem_response(problem_of(error))
