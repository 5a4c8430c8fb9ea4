"""What the use cases are given: units of work, the peers, the plan's quotas and the engines,
each as the protocol the use cases need. bootstrap.py gives the real ones; unit tests fakes."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ..domain.analysis import AiChoices, EngineModels
from ..domain.results import Engine
from .unit_of_work import AbstractUnitOfWork


class SettingsPeer(Protocol):
    """The gateway, which owns the workspaces' AI settings."""

    def ai_choices(self, workspace_id: str) -> AiChoices:
        """The settings at this moment; raises ``SettingsUnavailable`` when it cannot say."""


class DocumentsPeer(Protocol):
    def metadata(self, workspace_id: str, document_id: str) -> dict[str, Any] | None: ...

    def text(self, workspace_id: str, document_id: str) -> str:
        """The document's text; raises ``DocumentGone`` when it is no longer there."""


class QuotaGate(Protocol):
    def reserve(self, workspace_id: str, source_id: str, items: dict[str, int],
                checks: tuple[str, ...] = ()) -> None:
        """Count ``items`` for ``source_id``; raises ``QuotaRefused`` when the plan refuses."""


class Engines(Protocol):
    def offline(self) -> Engine: ...

    def llm(self, budget_tokens: int, guard: Callable[[], str | None]) -> Engine:
        """The LLM engine, spending at most ``budget_tokens``; it asks ``guard`` before every
        request to the provider and stops (``Withdrawn``) when it answers a reason."""


@dataclass
class AiService:
    uow: Callable[[], AbstractUnitOfWork]
    settings_peer: SettingsPeer
    documents: DocumentsPeer
    engines: Engines
    models: EngineModels
    monthly_tokens: int
    # A claimed analysis whose runner vanished is claimed again after this many seconds.
    stale_seconds: float
    # The gateway's decision on the plan's AI quotas, asked when an upload starts an analysis
    # (a requested one was reserved by the gateway before it forwarded the request).
    quotas: QuotaGate | None = None
