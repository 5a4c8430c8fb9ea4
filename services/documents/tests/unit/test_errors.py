"""Each domain error of the documents service becomes its problem document (api.md), in the
one place that knows how (entrypoints/errors.py)."""

import pytest
from flask import Flask

from pactra_documents.domain import errors as domain
from pactra_documents.entrypoints import errors


@pytest.mark.parametrize(("error", "status", "code", "detail", "headers"), [
    (domain.NotFound("doc_1"), 404, "not_found", "No document doc_1.", {}),
    (domain.PageNotFound("doc_1", 7), 404, "not_found", "No page 7 of document doc_1.", {}),
    (domain.InUse("doc_1"), 409, "conflict",
     "An agreement uses this document until it has ended and its evidence is made.", {}),
    (domain.Refused("encrypted_pdf", "The PDF is encrypted."), 422, "encrypted_pdf",
     "The PDF is encrypted.", {}),
    (domain.UploadTooLarge(4096), 413, "payload_too_large", "The file is larger than 4096 bytes.", {}),
    (domain.MalformedUpload("The multipart body has no boundary."), 400, "bad_request",
     "The multipart body has no boundary.", {}),
    (domain.InvalidListLimit("0"), 422, "validation_error", "limit must be an integer from 1 to 100.", {}),
    (domain.UnknownCursor("doc_9"), 422, "validation_error",
     "starting_after is not a document of this workspace.", {}),
    (domain.RenderBusy("ws/doc/pages/1.png"), 503, "unavailable",
     "Too many pages are being rendered; try again shortly.", {"Retry-After": "2"}),
    (domain.RenderFailed("timed out", retry=True, page=3), 503, "unavailable",
     "Page 3 took too long to render.", {"Retry-After": "30"}),
    (domain.RenderFailed("broken", retry=False, page=3), 422, "invalid_pdf",
     "Page 3 of this PDF cannot be rendered.", {}),
])
def test_each_domain_error_is_its_problem(error: domain.DocumentError, status: int, code: str, detail: str,
                                          headers: dict[str, str]) -> None:
    app = Flask(__name__)
    errors.register(app)

    @app.get("/")
    def fail() -> str:
        raise error

    response = app.test_client().get("/")
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/problem+json"
    assert (response.json["code"], response.json["detail"]) == (code, detail)
    for name, value in headers.items():
        assert response.headers[name] == value
