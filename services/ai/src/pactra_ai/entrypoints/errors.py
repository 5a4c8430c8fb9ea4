"""The one place where the ai service's domain errors become problem documents (RFC 9457)."""

from flask import Flask, Response

from pactra_contracts.problems import Problem
from pactra_platform.problems import problem_response

from ..domain.errors import (
    AiDisabled,
    AiError,
    AnalysisNotFound,
    DocumentNotFound,
    SettingsUnavailable,
    TokensSpent,
)

# The errors a request can meet: their problem code and what the caller is told.
PROBLEMS: dict[type[AiError], tuple[str, str]] = {
    AiDisabled: ("ai_disabled", "AI analysis is turned off for this workspace."),
    SettingsUnavailable: ("unavailable", "The workspace's AI settings cannot be read right now; retry."),
    AnalysisNotFound: ("not_found", "This document has no analysis; POST to start one."),
    DocumentNotFound: ("not_found", "No such document."),
    TokensSpent: ("quota_exceeded", "This workspace used its AI tokens for the month."),
}


def problem_of(error: AiError) -> Problem:
    code, detail = PROBLEMS[type(error)]
    return Problem.of(code, detail)


def register(app: Flask) -> None:
    """Answer each error of :data:`PROBLEMS` with its problem; any other error is unexpected
    in a request and goes to the app's handler of the unexpected."""

    def on_domain_error(error: AiError) -> Response:
        return problem_response(problem_of(error))

    for kind in PROBLEMS:
        app.register_error_handler(kind, on_domain_error)
