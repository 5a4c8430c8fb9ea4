"""The documents service as the ai service sees it: its internal HTTP API, never its database."""

from pactra_platform.internal_client import ServiceClient
from pactra_platform.settings import Settings


class DocumentGone(Exception):
    pass


class DocumentsClient:
    def __init__(self, settings: Settings) -> None:
        self.client = ServiceClient(settings, "ai", "documents", timeout=30.0)

    def metadata(self, workspace_id: str, document_id: str) -> dict | None:
        response = self.client.request("GET", f"/v1/documents/{document_id}",
                                       workspace_id=workspace_id)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    def text(self, workspace_id: str, document_id: str) -> str:
        response = self.client.request("GET", f"/v1/documents/{document_id}/text",
                                       workspace_id=workspace_id)
        if response.status_code in (404, 410):
            raise DocumentGone(document_id)
        response.raise_for_status()
        return response.content.decode("utf-8")
