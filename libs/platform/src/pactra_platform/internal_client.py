"""Signed service-to-service HTTP calls (the same signature the gateway uses)."""

from collections.abc import Mapping

import requests

from . import internal_auth, logs
from .settings import Settings


class ServiceClient:
    def __init__(self, settings: Settings, caller: str, target: str, timeout: float = 10.0) -> None:
        self.settings = settings
        self.caller = caller
        self.base_url = settings.url_of(target)
        self.timeout = timeout
        self.http = requests.Session()

    def request(self, method: str, path_with_query: str, *, workspace_id: str | None = None,
                extra_headers: Mapping[str, str] | None = None, **kwargs) -> requests.Response:
        identity = {
            internal_auth.CALLER: self.caller,
            internal_auth.WORKSPACE: workspace_id or "",
            internal_auth.REQUEST_ID: logs.request_id.get() or "",
        }
        headers = internal_auth.sign(self.settings.internal_secret, method, path_with_query, identity)
        headers.update(extra_headers or {})
        return self.http.request(
            method, self.base_url + path_with_query, headers=headers, timeout=self.timeout, **kwargs
        )
