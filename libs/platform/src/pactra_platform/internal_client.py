"""Signed service-to-service HTTP calls (the same signature the gateway uses), made as the
calling service with its own key."""

import hashlib
import json as jsonlib
from collections.abc import Mapping

import requests

from . import internal_auth, logs
from .settings import Settings


class ServiceClient:
    def __init__(self, settings: Settings, calling_service: str, target: str, timeout: float = 10.0) -> None:
        self.settings = settings
        self.calling_service = calling_service
        self.target = target
        self.signer = internal_auth.Signer.for_service(settings, calling_service)
        self.base_url = settings.url_of(target)
        self.timeout = timeout
        self.http = requests.Session()

    def request(self, method: str, path_with_query: str, *, workspace_id: str | None = None,
                extra_headers: Mapping[str, str] | None = None, data: bytes | None = None,
                json: object = None, livemode: bool | None = None, **kwargs) -> requests.Response:
        """``data`` (bytes) or ``json`` is the body; it is hashed into the signature, so it
        must be whole here (a stream would have to be spooled first). ``livemode`` scopes the
        call to live (True) or test (False) objects, as a key of that mode would be; None:
        not scoped."""
        headers = dict(extra_headers or {})
        if json is not None:
            data = jsonlib.dumps(json, separators=(",", ":")).encode()
            headers.setdefault("Content-Type", "application/json")
        if data is not None and not isinstance(data, bytes):
            raise TypeError("ServiceClient sends bytes bodies only (they are signed whole)")
        identity = {
            internal_auth.WORKSPACE: workspace_id or "",
            internal_auth.REQUEST_ID: logs.request_id.get() or "",
            internal_auth.LIVEMODE: "" if livemode is None else ("true" if livemode else "false"),
        }
        digest = hashlib.sha256(data).hexdigest() if data else internal_auth.EMPTY_SHA256
        headers.update(self.signer.sign(self.target, method, path_with_query, identity, digest))
        return self.http.request(method, self.base_url + path_with_query, headers=headers,
                                 data=data, timeout=self.timeout, **kwargs)
