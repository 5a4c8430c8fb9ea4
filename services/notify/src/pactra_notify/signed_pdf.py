"""The signed PDF of a completed agreement, from the receipts service's API."""

from pactra_contracts.events import Event, ReceiptIssued
from pactra_platform.internal_client import ServiceClient

from .emails import SignedPdf
from .settings import NotifySettings


class SignedPdfUnavailable(RuntimeError):
    """Receipts has no signed PDF for the agreement (yet): raised so the event is retried."""


def fetch_signed_pdf(settings: NotifySettings, event: Event, data: ReceiptIssued) -> SignedPdf:
    """The PDF, or a :class:`SignedPdf` without content when it exceeds the attachment limit
    (read no further than that: it will be linked, not attached)."""
    filename = f"{data.agreement_id}-signed.pdf"
    client = ServiceClient(settings, "notify", "receipts", timeout=30.0)
    try:
        response = client.request("GET", f"/v1/agreements/{data.agreement_id}/signed.pdf",
                                  workspace_id=event.workspace_id, stream=True)
        with response:
            if response.status_code != 200:
                raise SignedPdfUnavailable(
                    f"receipts answered {response.status_code} for {data.agreement_id}'s signed.pdf")
            declared = int(response.headers.get("Content-Length") or 0)
            if declared > settings.max_attachment_bytes:
                return SignedPdf(None, filename)
            content = bytearray()
            for chunk in response.iter_content(64 * 1024):
                content += chunk
                if len(content) > settings.max_attachment_bytes:
                    return SignedPdf(None, filename)
            return SignedPdf(bytes(content), filename)
    finally:
        client.http.close()
