"""The plan's quotas, as the gateway decides them (pactra_platform.quotas): asked when an
upload would start an analysis of its own accord."""

from functools import cached_property

from pactra_platform.problems import ProblemError
from pactra_platform.quotas import Quotas
from pactra_platform.settings import Settings

from ..config import SERVICE
from ..domain.errors import QuotaRefused


class PlanQuotas:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def _quotas(self) -> Quotas:
        # Made at the first call: its signed client needs the service's key, and the worker's
        # module is imported without one (``make docs``).
        return Quotas(self.settings, SERVICE)

    def reserve(self, workspace_id: str, source_id: str, items: dict[str, int],
                checks: tuple[str, ...] = ()) -> None:
        """Count ``items`` for ``source_id``, or raise :class:`QuotaRefused` when the plan
        refuses; a gateway that does not decide raises as it is (the handler is retried)."""
        try:
            self._quotas.reserve(workspace_id, source_id, items, checks=checks)
        except ProblemError as exc:
            if exc.problem.code != "quota_exceeded":
                raise
            raise QuotaRefused(workspace_id) from exc
