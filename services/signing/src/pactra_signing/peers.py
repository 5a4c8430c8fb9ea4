"""Signed calls to the services signing depends on: documents (the PDF and its pages) and
receipts (a signer's copy of the evidence)."""

import requests

from pactra_platform.internal_client import ServiceClient
from pactra_platform.problems import ProblemError
from pactra_platform.settings import Settings

from .agreements import DocumentInfo, Invalid


class Peers:
    def __init__(self, settings: Settings) -> None:
        self.documents = ServiceClient(settings, "signing", "documents", timeout=30)
        self.receipts = ServiceClient(settings, "signing", "receipts", timeout=30)

    def document(self, workspace_id: str, document_id: str) -> DocumentInfo:
        try:
            response = self.documents.request("GET", f"/v1/documents/{document_id}",
                                              workspace_id=workspace_id)
        except requests.RequestException as exc:
            raise ProblemError("unavailable", "The documents service did not answer.") from exc
        if response.status_code == 404:
            raise Invalid("document_id", "No such document in this workspace.")
        if response.status_code != 200:
            raise ProblemError("unavailable", "The documents service could not describe the document.")
        body = response.json()
        sizes = body.get("page_sizes")
        return DocumentInfo(id=body["id"], sha256=body["sha256"], pages=body["pages"],
                            page_sizes=tuple((s["width"], s["height"]) for s in sizes) if sizes else None)

    def stream(self, client: ServiceClient, path: str, workspace_id: str) -> requests.Response:
        try:
            return client.request("GET", path, workspace_id=workspace_id, stream=True)
        except requests.RequestException as exc:
            raise ProblemError("unavailable", "A service behind this page did not answer.") from exc
