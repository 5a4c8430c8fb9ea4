"""Asking the gateway, the owner of plans and usage counters, for a quota decision at the
moment work is requested (its ``POST /internal/quotas/reserve``;
pactra_gateway.adapters.usage_counters).

The service about to do the work calls :func:`reserve` with the quantities it will use, under
an id of its own for that work, and publishes ``usage.recorded`` events with the same id as
``source_event_id`` in the transaction of the work: they confirm the reservation. A refusal is
the request's answer, ``402 quota_exceeded`` with the gateway's ``{metric, limit, used,
resets_at}``, before any work. With ``PACTRA_QUOTAS=off`` nothing is asked (the bench's
comparison run); usage is still counted from the events.
"""

import requests

from .internal_client import ServiceClient
from .problems import ProblemError
from .settings import Settings

QUOTA_FIELDS = ("metric", "limit", "used", "resets_at")


class Quotas:
    def __init__(self, settings: Settings, calling_service: str) -> None:
        self.enabled = settings.quotas
        self.client = (ServiceClient(settings, calling_service, "gateway", timeout=5.0)
                       if self.enabled else None)

    def reserve(self, workspace_id: str, source_id: str, items: dict[str, int],
                checks: tuple[str, ...] = ()) -> None:
        """Count ``items`` for ``source_id`` now, or raise the gateway's 402 as a
        :class:`ProblemError` (and ``checks``: refuse when one of these metrics has nothing
        left, counting nothing)."""
        if self.client is None:
            return
        try:
            response = self.client.request("POST", "/internal/quotas/reserve", workspace_id=workspace_id,
                                           json={"source_id": source_id, "items": items,
                                                 "checks": list(checks)})
        except requests.RequestException as exc:
            raise ProblemError("unavailable", "The gateway did not decide the workspace's quota; "
                               "retry.", headers={"Retry-After": "1"}) from exc
        if response.status_code == 402:
            body = response.json()
            raise ProblemError("quota_exceeded", str(body.get("detail") or "Quota exceeded."),
                               quota={name: body.get(name) for name in QUOTA_FIELDS})
        if response.status_code != 200:
            raise ProblemError("unavailable", "The gateway did not decide the workspace's quota; "
                               "retry.", headers={"Retry-After": "1"})
