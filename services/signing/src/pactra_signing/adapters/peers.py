"""Signed calls to the services signing depends on: documents (the PDF and its pages),
receipts (a signer's copy of the evidence) and the gateway (whether the owner is verified)."""

from urllib.parse import quote

import requests

from pactra_platform.internal_client import ServiceClient
from pactra_platform.problems import ProblemError
from pactra_platform.settings import Settings

from ..domain.agreement import DocumentInfo
from ..domain.errors import Invalid
from ..domain.workspace import Owner


class Peers:
    def __init__(self, settings: Settings) -> None:
        self.documents = ServiceClient(settings, "signing", "documents", timeout=30)
        self.receipts = ServiceClient(settings, "signing", "receipts", timeout=30)
        self.gateway = ServiceClient(settings, "signing", "gateway", timeout=5)

    def document(self, workspace_id: str, document_id: str, *,
                 livemode: bool | None = None) -> DocumentInfo:
        try:
            response = self.documents.request("GET", f"/v1/documents/{document_id}",
                                              workspace_id=workspace_id, livemode=livemode)
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


def owner_of(peers: Peers, workspace_id: str) -> Owner:
    """Asked of the gateway (the owner of accounts) at send time: a confirmation holds from
    the moment it was answered, not from when its event reaches signing."""
    path = f"/internal/workspaces/{quote(workspace_id, safe='')}/owner"
    try:
        response = peers.gateway.request("GET", path, workspace_id=workspace_id)
    except requests.RequestException as exc:
        raise ProblemError("unavailable", "The gateway did not say whether the sender is verified.",
                           headers={"Retry-After": "1"}) from exc
    if response.status_code != 200:
        raise ProblemError("unavailable", "The gateway did not say whether the sender is verified.",
                           headers={"Retry-After": "1"})
    body = response.json()
    return Owner(email=str(body["email"]).lower(), email_verified=body["email_verified"] is True)

