"""Problem documents (RFC 9457) as exceptions and Flask responses."""

import json
from typing import TypeVar

from flask import Response
from pydantic import BaseModel, ValidationError

from pactra_contracts.problems import PROBLEM_CONTENT_TYPE, FieldError, Problem

M = TypeVar("M", bound=BaseModel)


class ProblemError(Exception):
    """Raise anywhere in a request to answer with a problem document."""

    def __init__(self, code: str, detail: str, errors: list[FieldError] | None = None,
                 headers: dict[str, str] | None = None, *, evidence_reason: str | None = None,
                 quota: dict | None = None) -> None:
        super().__init__(detail)
        self.problem = Problem.of(code, detail, errors, evidence_reason=evidence_reason,
                                  quota=quota)
        self.headers = headers or {}


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> Response:
    body = problem.model_dump(mode="json", exclude_none=True)
    response = Response(json.dumps(body), status=problem.status, mimetype=PROBLEM_CONTENT_TYPE)
    response.headers.update(headers or {})
    return response


def field_errors(exc: ValidationError) -> list[FieldError]:
    errors = []
    for error in exc.errors(include_url=False, include_input=False):
        location = ".".join(str(part) for part in error["loc"]) or "body"
        errors.append(FieldError(field=location, message=error["msg"]))
    return errors


def parse_json_body(model: type[M], raw: bytes) -> M:
    """A request body as ``model``: 400 ``invalid_json`` or 422 ``validation_error``."""
    try:
        data = json.loads(raw or b"null")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProblemError("invalid_json", f"The body is not valid JSON: {exc}") from exc
    except RecursionError as exc:
        # Arrays or objects nested thousands deep (a few bytes each) exhaust the parser's
        # stack; no request of this API nests more than a few levels.
        raise ProblemError("invalid_json", "The body's JSON is nested too deeply.") from exc
    if not isinstance(data, dict):
        raise ProblemError("validation_error", "The body must be a JSON object.",
                           [FieldError(field="body", message="expected an object")])
    try:
        return model.model_validate_json(raw, strict=True)
    except ValidationError as exc:
        raise ProblemError("validation_error", "The request has invalid members.",
                           field_errors(exc)) from exc
