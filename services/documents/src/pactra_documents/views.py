"""The documents HTTP API (api.md, "Documents"); the gateway forwards ``/v1/documents*`` here,
and signing calls the same routes with its own signed identity and the workspace header."""

import tempfile
from pathlib import Path
from typing import IO
from urllib.parse import quote

from flask import Blueprint, Response, current_app, g, request
from werkzeug.http import parse_options_header

from pactra_contracts.events import Actor
from pactra_platform.objects import ObjectMissing
from pactra_platform.problems import ProblemError
from pactra_platform.web import current_identity, livemode_filter, mode_of_new_objects, require_workspace

from .documents import (
    Context,
    Documents,
    InUse,
    NotFound,
    Refused,
    RenderBusy,
    RenderFailed,
    document_out,
)
from .intake import (
    CHUNK,
    MalformedUpload,
    TooLarge,
    clean_filename,
    receive_multipart,
    receive_raw,
)

EXTENSION = "pactra_documents"
RAW_TYPES = ("application/pdf", "application/octet-stream")

bp = Blueprint("documents", __name__)


def documents() -> Documents:
    return current_app.extensions[EXTENSION]


def context() -> Context:
    identity = current_identity()
    actor = Actor(kind="api_key", id=identity.api_key_id or identity.caller or "unknown",
                  ip=identity.client_ip, user_agent=identity.user_agent)
    return Context(request_id=g.get("request_id"), actor=actor)


def not_found(document_id: str) -> ProblemError:
    return ProblemError("not_found", f"No document {document_id}.")


def too_large(limit: int) -> ProblemError:
    return ProblemError("payload_too_large", f"The file is larger than {limit} bytes.")


def drain(stream: IO[bytes], budget: int) -> None:
    """Read and drop up to ``budget`` more bytes of a streamed body, so that a proxy still
    sending it (the gateway) gets our 413 instead of a reset connection; a client that keeps
    sending past that is cut off."""
    while budget > 0 and (chunk := stream.read(min(CHUNK, budget))):
        budget -= len(chunk)


@bp.post("/v1/documents")
def upload() -> tuple[dict, int]:
    workspace_id = require_workspace()
    limit = current_app.config["SETTINGS"].max_upload_bytes
    # Refused on the declared size alone, before a byte of the body is read.
    if request.content_length is not None and request.content_length > limit:
        raise too_large(limit)
    mimetype, options = parse_options_header(request.headers.get("Content-Type", ""))
    if mimetype not in (*RAW_TYPES, "multipart/form-data"):
        raise ProblemError("unsupported_media_type",
                           "Upload a PDF as application/pdf or multipart/form-data part 'file'.")
    with tempfile.TemporaryDirectory(prefix="pactra-upload-") as workdir:
        try:
            if mimetype == "multipart/form-data":
                boundary = options.get("boundary")
                if not boundary:
                    raise ProblemError("bad_request", "The multipart body has no boundary.")
                received = receive_multipart(request.stream, boundary, request.content_length,
                                             Path(workdir), limit)
            else:
                received = receive_raw(request.stream, Path(workdir), limit)
        except TooLarge as error:
            drain(request.stream, limit)
            raise too_large(limit) from error
        except MalformedUpload as error:
            raise ProblemError("bad_request", str(error)) from error
        filename = clean_filename(request.args.get("filename") or received.filename)
        try:
            document = documents().upload(workspace_id, received, filename, context(),
                                          livemode=mode_of_new_objects())
        except Refused as error:
            raise ProblemError(error.code, error.detail) from error
    return document.model_dump(mode="json"), 201


@bp.get("/v1/documents")
def list_documents() -> dict:
    workspace_id = require_workspace()
    raw_limit = request.args.get("limit", "20")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 100:
        raise ProblemError("validation_error", "limit must be an integer from 1 to 100.")
    starting_after = request.args.get("starting_after") or None
    try:
        page = documents().list(workspace_id, limit=int(raw_limit),
                                starting_after=starting_after, livemode=livemode_filter())
    except NotFound as error:
        raise ProblemError("validation_error",
                           "starting_after is not a document of this workspace.") from error
    return page.model_dump(mode="json")


@bp.get("/v1/documents/<document_id>")
def get_document(document_id: str) -> dict:
    try:
        document = documents().get(require_workspace(), document_id, livemode_filter())
    except NotFound as error:
        raise not_found(document_id) from error
    return document_out(document).model_dump(mode="json")


@bp.get("/v1/documents/<document_id>/content")
def content(document_id: str) -> Response:
    try:
        document, chunks = documents().content(require_workspace(), document_id, livemode_filter())
    except (NotFound, ObjectMissing) as error:
        raise not_found(document_id) from error
    response = Response(chunks, mimetype="application/pdf", direct_passthrough=True)
    response.headers["Content-Length"] = str(document.size)
    response.headers["Content-Disposition"] = (
        f"inline; filename*=UTF-8''{quote(document.filename, safe='')}")
    response.headers["X-Content-SHA256"] = document.sha256
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/v1/documents/<document_id>/text")
def text(document_id: str) -> Response:
    try:
        chunks = documents().text(require_workspace(), document_id, livemode_filter())
    except (NotFound, ObjectMissing) as error:
        raise not_found(document_id) from error
    response = Response(chunks, content_type="text/plain; charset=utf-8",
                        direct_passthrough=True)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/v1/documents/<document_id>/pages/<int:page>")
def page_image(document_id: str, page: int) -> Response:
    try:
        png = documents().page_png(require_workspace(), document_id, page, livemode_filter())
    except (NotFound, ObjectMissing) as error:
        raise ProblemError("not_found", f"No page {page} of document {document_id}.") from error
    except RenderBusy as error:
        raise ProblemError("unavailable", "Too many pages are being rendered; try again shortly.",
                           headers={"Retry-After": "2"}) from error
    except RenderFailed as error:
        if error.retry:
            raise ProblemError("unavailable", f"Page {page} took too long to render.",
                               headers={"Retry-After": "30"}) from error
        raise ProblemError("invalid_pdf", f"Page {page} of this PDF cannot be rendered.") from error
    response = Response(png, mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@bp.delete("/v1/documents/<document_id>")
def delete(document_id: str) -> tuple[str, int]:
    try:
        documents().delete(require_workspace(), document_id, context(), livemode_filter())
    except NotFound as error:
        raise not_found(document_id) from error
    except InUse as error:
        raise ProblemError("conflict",
                           "An agreement uses this document until it has ended and its "
                           "evidence is made.") from error
    return "", 204
