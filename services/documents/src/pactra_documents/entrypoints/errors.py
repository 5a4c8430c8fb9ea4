"""The one place where the documents service's domain errors become problem documents
(api.md): their codes, statuses, details and headers."""

from collections.abc import Callable

from flask import Flask, Response

from pactra_contracts.problems import Problem
from pactra_platform.problems import problem_response

from ..domain.errors import (
    DocumentError,
    InUse,
    InvalidListLimit,
    MalformedUpload,
    NotFound,
    PageNotFound,
    Refused,
    RenderBusy,
    RenderFailed,
    UnknownCursor,
    UploadTooLarge,
)
from ..domain.model import MAX_LIST_LIMIT


def _render_failed(error: RenderFailed) -> Response:
    if error.retry:
        return problem_response(Problem.of("unavailable", f"Page {error.page} took too long to render."),
                                {"Retry-After": "30"})
    return problem_response(Problem.of("invalid_pdf", f"Page {error.page} of this PDF cannot be rendered."))


# Most specific first: the first class an error is an instance of answers it.
PROBLEMS: tuple[tuple[type[DocumentError], Callable[..., Response]], ...] = (
    (PageNotFound, lambda e: problem_response(Problem.of(
        "not_found", f"No page {e.page} of document {e.document_id}."))),
    (NotFound, lambda e: problem_response(Problem.of("not_found", f"No document {e.document_id}."))),
    (InUse, lambda e: problem_response(Problem.of(
        "conflict", "An agreement uses this document until it has ended and its evidence is made."))),
    (Refused, lambda e: problem_response(Problem.of(e.code, e.detail))),
    (UploadTooLarge, lambda e: problem_response(Problem.of(
        "payload_too_large", f"The file is larger than {e.limit} bytes."))),
    (MalformedUpload, lambda e: problem_response(Problem.of("bad_request", str(e)))),
    (InvalidListLimit, lambda e: problem_response(Problem.of(
        "validation_error", f"limit must be an integer from 1 to {MAX_LIST_LIMIT}."))),
    (UnknownCursor, lambda e: problem_response(Problem.of(
        "validation_error", "starting_after is not a document of this workspace."))),
    (RenderBusy, lambda e: problem_response(Problem.of(
        "unavailable", "Too many pages are being rendered; try again shortly."), {"Retry-After": "2"})),
    (RenderFailed, _render_failed),
)


def problem_of(error: DocumentError) -> Response:
    for kind, answer in PROBLEMS:
        if isinstance(error, kind):
            return answer(error)
    raise error  # a domain error without a problem is a bug: the app's 500 handler logs it


def register(app: Flask) -> None:
    app.register_error_handler(DocumentError, problem_of)
