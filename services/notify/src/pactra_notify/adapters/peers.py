"""What notify asks of the other services, with its own signed identity and the event's
workspace (so only that workspace's objects can come back): receipts' signed PDF of a
completed agreement, and signing's public agreement object for a webhook's body."""

from collections.abc import Mapping
from typing import Any

import requests

from pactra_platform.internal_client import ServiceClient

from ..config import NotifySettings
from ..domain.emails import SignedPdf

SERVICE = "notify"


class SignedPdfUnavailable(RuntimeError):
    """Receipts has no signed PDF for the agreement (yet): raised so the event is retried."""


class SigningUnavailable(RuntimeError):
    """Signing did not answer for the agreement: the event is retried (then dead-lettered)."""


class HttpPeers:
    def __init__(self, settings: NotifySettings) -> None:
        self.settings = settings

    def signed_pdf(self, workspace_id: str | None, agreement_id: str) -> SignedPdf:
        """The PDF, or a :class:`SignedPdf` without content when it exceeds the attachment
        limit (read no further than that: it will be linked, not attached)."""
        limit = self.settings.max_attachment_bytes
        filename = f"{agreement_id}-signed.pdf"
        client = ServiceClient(self.settings, SERVICE, "receipts", timeout=30.0)
        try:
            response = client.request("GET", f"/v1/agreements/{agreement_id}/signed.pdf",
                                      workspace_id=workspace_id, stream=True)
            with response:
                if response.status_code != 200:
                    raise SignedPdfUnavailable(
                        f"receipts answered {response.status_code} for {agreement_id}'s signed.pdf")
                declared = int(response.headers.get("Content-Length") or 0)
                if declared > limit:
                    return SignedPdf(None, filename)
                content = bytearray()
                for chunk in response.iter_content(64 * 1024):
                    content += chunk
                    if len(content) > limit:
                        return SignedPdf(None, filename)
                return SignedPdf(bytes(content), filename)
        finally:
            client.http.close()

    def agreement(self, workspace_id: str, agreement_id: str) -> Mapping[str, Any] | None:
        """The agreement object as the API returns it; None when signing has none."""
        client = ServiceClient(self.settings, SERVICE, "signing", timeout=10.0)
        try:
            response = client.request("GET", f"/v1/agreements/{agreement_id}", workspace_id=workspace_id)
        except requests.RequestException as exc:
            raise SigningUnavailable(f"signing unreachable: {type(exc).__name__}") from None
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise SigningUnavailable(f"signing answered {response.status_code}")
        return response.json()
