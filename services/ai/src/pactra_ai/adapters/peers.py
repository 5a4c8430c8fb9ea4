"""The documents service and the gateway as the ai service sees them: their internal HTTP
APIs, never their databases."""

from functools import cached_property
from urllib.parse import quote

import requests

from pactra_platform.internal_client import ServiceClient
from pactra_platform.settings import Settings

from ..config import SERVICE
from ..domain.analysis import NOTHING_ALLOWED, AiChoices
from ..domain.errors import DocumentGone, SettingsUnavailable


class _Peer:
    """A peer's signed client, made at the first call: signing needs the service's key, and
    the worker's module is imported without one (``make docs``)."""

    target: str
    timeout: float

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def client(self) -> ServiceClient:
        return ServiceClient(self.settings, SERVICE, self.target, timeout=self.timeout)


class DocumentsClient(_Peer):
    target, timeout = "documents", 30.0

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


class GatewayClient(_Peer):
    """The gateway owns the workspace settings. Asked at every point where an analysis would
    start (a request, an upload with auto-analysis, the runner, each call to the provider),
    so a setting holds from the moment ``PATCH /v1/workspace`` answered; the
    ``workspace.updated`` event arrives later."""

    target, timeout = "gateway", 5.0

    def ai_choices(self, workspace_id: str) -> AiChoices:
        path = f"/internal/workspaces/{quote(workspace_id, safe='')}/ai-settings"
        try:
            response = self.client.request("GET", path, workspace_id=workspace_id)
        except requests.RequestException as exc:
            raise SettingsUnavailable(workspace_id) from exc
        if response.status_code == 404:
            return NOTHING_ALLOWED
        if response.status_code != 200:
            raise SettingsUnavailable(f"{workspace_id}: gateway answered {response.status_code}")
        body = response.json()
        return AiChoices(ai_enabled=body["ai_enabled"] is True, ai_engine=str(body["ai_engine"]),
                         ai_auto_analyze=body["ai_auto_analyze"] is True)
