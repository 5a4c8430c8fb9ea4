"""The analysis engines behind :class:`~pactra_ai.domain.results.Engine`: the offline engine
(rules and a small model shipped in ``offline/``) and the LLM (``llm/``, an OpenAI-compatible
provider). The runner gets them from :class:`ConfiguredEngines`; unit tests from a fake."""

from collections.abc import Callable

from ...config import LlmSettings
from ...domain.results import Engine
from .offline.engine import OfflineEngine


def offline_engine() -> Engine:
    return OfflineEngine()


class ConfiguredEngines:
    """The engines this deployment has: the offline one always, the LLM when ``llm`` is set."""

    def __init__(self, llm: LlmSettings | None) -> None:
        self.llm_settings = llm

    def offline(self) -> Engine:
        return offline_engine()

    def llm(self, budget_tokens: int, guard: Callable[[], str | None]) -> Engine:
        if self.llm_settings is None:
            raise RuntimeError("no LLM provider is configured (PACTRA_AI_BASE_URL)")
        from .llm.engine import LlmEngine

        # ``guard`` is asked before every request to the provider: no text leaves once the
        # workspace turned AI off or chose another engine, even halfway through a document.
        return LlmEngine(self.llm_settings, budget_tokens, guard=guard)
