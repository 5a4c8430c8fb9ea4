"""The documents HTTP API (api.md, "Documents"); the gateway forwards ``/v1/documents*`` here,
and signing calls the same routes with its own signed identity and the workspace header.

Each view parses its request, runs one use case of the service layer, and shapes the answer;
what the use case refuses, it refuses with a domain error (``errors.py`` answers it)."""

import tempfile
from pathlib import Path
from typing import IO
from urllib.parse import quote

from flask import Blueprint, Response, current_app, g, request
from werkzeug.http import parse_options_header

from pactra_contracts.events import Actor
from pactra_platform.web import current_identity, livemode_filter, mode_of_new_objects, require_workspace

from ..bootstrap import Documents
from ..domain.errors import MalformedUpload, Refused, UploadTooLarge
from ..domain.model import check_declared_size, list_limit
from ..service_layer import documents as use_cases
from ..service_layer.documents import Context, document_out
from .intake import CHUNK, TooLarge, clean_filename, receive_multipart, receive_raw

EXTENSION = "pactra_documents"
RAW_TYPES = ("application/pdf", "application/octet-stream")

bp = Blueprint("documents", __name__)


def documents() -> Documents:
    return current_app.extensions[EXTENSION]


def context() -> Context:
    identity = current_identity()
    actor = Actor(kind="api_key", id=identity.api_key_id or identity.calling_service or "unknown",
                  ip=identity.client_ip, user_agent=identity.user_agent)
    return Context(request_id=g.get("request_id"), actor=actor)


def drain(stream: IO[bytes], budget: int) -> None:
    """Read and drop up to ``budget`` more bytes of a streamed body, so that a proxy still
    sending it (the gateway) gets our 413 instead of a reset connection; a client that keeps
    sending past that is cut off."""
    while budget > 0 and (chunk := stream.read(min(CHUNK, budget))):
        budget -= len(chunk)


@bp.post("/v1/documents")
def upload() -> tuple[dict, int]:
    workspace_id = require_workspace()
    service = documents()
    limit = service.settings.max_upload_bytes
    check_declared_size(request.content_length, limit)
    mimetype, options = parse_options_header(request.headers.get("Content-Type", ""))
    if mimetype not in (*RAW_TYPES, "multipart/form-data"):
        raise Refused("unsupported_media_type",
                      "Upload a PDF as application/pdf or multipart/form-data part 'file'.")
    with tempfile.TemporaryDirectory(prefix="pactra-upload-") as workdir:
        try:
            if mimetype == "multipart/form-data":
                boundary = options.get("boundary")
                if not boundary:
                    raise MalformedUpload("The multipart body has no boundary.")
                received = receive_multipart(request.stream, boundary, request.content_length,
                                             Path(workdir), limit)
            else:
                received = receive_raw(request.stream, Path(workdir), limit)
        except TooLarge as error:
            drain(request.stream, limit)
            raise UploadTooLarge(limit) from error
        filename = clean_filename(request.args.get("filename") or received.filename)
        document = use_cases.upload(service.uow(), service.store, service.probe, workspace_id,
                                    received, filename, context(), livemode=mode_of_new_objects())
    return document_out(document).model_dump(mode="json"), 201


@bp.get("/v1/documents")
def list_documents() -> dict:
    workspace_id = require_workspace()
    limit = list_limit(request.args.get("limit", "20"))
    page = use_cases.list_documents(documents().uow(), workspace_id, limit=limit,
                                    starting_after=request.args.get("starting_after") or None,
                                    livemode=livemode_filter())
    return page.model_dump(mode="json")


@bp.get("/v1/documents/<document_id>")
def get_document(document_id: str) -> dict:
    document = use_cases.get(documents().uow(), require_workspace(), document_id, livemode_filter())
    return document_out(document).model_dump(mode="json")


@bp.get("/v1/documents/<document_id>/content")
def content(document_id: str) -> Response:
    service = documents()
    document, chunks = use_cases.content(service.uow(), service.store, require_workspace(),
                                         document_id, livemode_filter())
    response = Response(chunks, mimetype="application/pdf", direct_passthrough=True)
    response.headers["Content-Length"] = str(document.size)
    response.headers["Content-Disposition"] = (
        f"inline; filename*=UTF-8''{quote(document.filename, safe='')}")
    response.headers["X-Content-SHA256"] = document.sha256
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/v1/documents/<document_id>/text")
def text(document_id: str) -> Response:
    service = documents()
    chunks = use_cases.text(service.uow(), service.store, require_workspace(), document_id,
                            livemode_filter())
    response = Response(chunks, content_type="text/plain; charset=utf-8",
                        direct_passthrough=True)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/v1/documents/<document_id>/pages/<int:page>")
def page_image(document_id: str, page: int) -> Response:
    service = documents()
    png = service.pages.png(service.uow(), require_workspace(), document_id, page, livemode_filter())
    response = Response(png, mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@bp.delete("/v1/documents/<document_id>")
def delete(document_id: str) -> tuple[str, int]:
    service = documents()
    use_cases.delete(service.uow(), service.store, require_workspace(), document_id, context(),
                     livemode_filter())
    return "", 204
