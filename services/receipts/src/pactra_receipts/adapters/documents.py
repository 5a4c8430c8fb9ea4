"""The documents service, as the issuer needs it: an agreement's original document."""

from dataclasses import dataclass

from pactra_platform.internal_client import ServiceClient
from pactra_platform.settings import Settings

from ..domain.errors import EvidenceError

SERVICE = "receipts"


@dataclass(frozen=True)
class DocumentsClient:
    settings: Settings
    timeout: float = 60.0

    def content(self, workspace_id: str, document_id: str) -> bytes:
        # A client per call: issuers fetch from several threads at once.
        client = ServiceClient(self.settings, SERVICE, "documents", timeout=self.timeout)
        response = client.request("GET", f"/v1/documents/{document_id}/content", workspace_id=workspace_id)
        if response.status_code != 200:
            raise EvidenceError(f"documents answered {response.status_code} for {document_id}'s content",
                                "document_unavailable")
        return response.content
