"""The one place the signing domain's errors become problem documents (api.md, "Errors")."""

from flask import Flask, Response

from pactra_contracts.problems import FieldError, Problem
from pactra_platform.problems import problem_response

from ..domain import errors


def problem_of(exc: errors.SigningError) -> Response:
    if isinstance(exc, errors.NotFound):
        return problem_response(Problem.of("not_found", "No such agreement, signer or link."))
    if isinstance(exc, errors.Invalid):
        return problem_response(Problem.of(
            "validation_error", str(exc), [FieldError(field=exc.field, message=str(exc))]))
    if isinstance(exc, errors.TooSoon):
        return problem_response(Problem.of("rate_limited", str(exc)),
                                {"Retry-After": str(exc.retry_after)})
    if isinstance(exc, errors.NotReady):
        return problem_response(Problem.of("unavailable", str(exc)), {"Retry-After": "1"})
    code = {errors.Conflict: "conflict", errors.Gone: "gone",
            errors.EmailUnverified: "email_unverified"}[type(exc)]
    return problem_response(Problem.of(code, str(exc)))


def register(app: Flask) -> None:
    app.register_error_handler(errors.SigningError, problem_of)
