"""In-memory stand-ins for the ai service's storage, peers and engines: the use cases run on
them with no database, broker, gateway or provider."""

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from pactra_ai.domain.analysis import OFFLINE, AiChoices, Analysis, CachedResult, EngineModels
from pactra_ai.domain.errors import AnalysisExists, DocumentGone, QuotaRefused, SettingsUnavailable, Withdrawn
from pactra_ai.domain.results import AnalysisResult, Clause
from pactra_ai.service_layer.dependencies import AiService
from pactra_contracts.events import Event
from pactra_devtools import fakes

LLM_MODEL = "test/llm"
OFFLINE_MODEL = "test-offline"


class FakeAnalyses:
    def __init__(self) -> None:
        self.rows: dict[str, Analysis] = {}

    def get(self, analysis_id: str, *, lock: bool = False) -> Analysis | None:
        return self.rows.get(analysis_id)

    def for_document(self, workspace_id: str, document_id: str, *, lock: bool = False) -> Analysis | None:
        return next((a for a in self.rows.values()
                     if (a.workspace_id, a.document_id) == (workspace_id, document_id)), None)

    def add(self, analysis: Analysis) -> None:
        if self.for_document(analysis.workspace_id, analysis.document_id) is not None:
            raise AnalysisExists(analysis.document_id)
        self.rows[analysis.id] = analysis

    def delete(self, analysis: Analysis) -> None:
        del self.rows[analysis.id]

    def next_to_run(self, stale_before: datetime) -> Analysis | None:
        waiting = [a for a in self.rows.values() if a.claimable(stale_before)]
        return min(waiting, key=lambda a: a.updated_at, default=None)

    def of_workspace(self, workspace_id: str) -> Iterator[Analysis]:
        return iter([a for a in self.rows.values() if a.workspace_id == workspace_id])


class FakeResultCache:
    def __init__(self) -> None:
        self.results: dict[tuple[str, str, str, str], CachedResult] = {}

    def get(self, workspace_id: str, sha256: str, engine: str, model: str) -> CachedResult | None:
        return self.results.get((workspace_id, sha256, engine, model))

    def add(self, workspace_id: str, sha256: str, engine: str, model: str, result: CachedResult,
            now: datetime) -> None:
        self.results[(workspace_id, sha256, engine, model)] = result

    def forget_workspace(self, workspace_id: str) -> int:
        gone = [key for key in self.results if key[0] == workspace_id]
        for key in gone:
            del self.results[key]
        return len(gone)


class FakeTokenCounts:
    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], int] = {}

    def used(self, workspace_id: str, month: str) -> int:
        return self.counts.get((workspace_id, month), 0)

    def add(self, workspace_id: str, month: str, tokens: int) -> None:
        self.counts[(workspace_id, month)] = self.used(workspace_id, month) + tokens


class FakeChoicesMirror:
    def __init__(self) -> None:
        self.choices: dict[str, AiChoices] = {}

    def get(self, workspace_id: str, *, lock: bool = False) -> AiChoices | None:
        return self.choices.get(workspace_id)

    def put(self, workspace_id: str, choices: AiChoices) -> None:
        self.choices[workspace_id] = choices


class FakeUnitOfWork(fakes.FakeUnitOfWork):
    """One store shared by every unit of work a test makes (as one database is); what a unit
    of work publishes, and its wake-up of the runner, count once it commits."""

    def __init__(self) -> None:
        super().__init__()
        self.analyses = FakeAnalyses()
        self.cache = FakeResultCache()
        self.tokens = FakeTokenCounts()
        self.choices = FakeChoicesMirror()
        self.wakeups = 0
        self._wake = False
        self.purged: dict[str, int] | None = None

    def wake_runner(self) -> None:
        self._wake = True

    def commit(self) -> None:
        super().commit()
        self.wakeups += self._wake
        self._wake = False

    def rollback(self) -> None:
        # The rows are shared objects (no snapshot to go back to): tests that roll back check
        # only what was published.
        super().rollback()
        self._wake = False

    def erase_workspace(self, workspace_id: str) -> dict[str, int]:
        gone = list(self.analyses.of_workspace(workspace_id))
        for analysis in gone:
            self.analyses.delete(analysis)
        return {"analyses": len(gone), "analysis_cache": self.cache.forget_workspace(workspace_id)}

    def report_purged(self, event: Event[Any], counts: dict[str, int]) -> None:
        self.purged = counts

    def events(self, event_type: str) -> list[dict[str, Any]]:
        return [event.data for event in self.published if event.type == event_type]


class FakeSettingsPeer:
    """The gateway's answer on a workspace's AI settings; ``None``: it does not answer."""

    def __init__(self) -> None:
        self.choices: dict[str, AiChoices | None] = {}
        self.asked = 0

    def ai_choices(self, workspace_id: str) -> AiChoices:
        self.asked += 1
        choices = self.choices.get(workspace_id, AiChoices(True, OFFLINE, False))
        if choices is None:
            raise SettingsUnavailable(workspace_id)
        return choices


class FakeDocuments:
    def __init__(self) -> None:
        self.texts: dict[tuple[str, str], str] = {}

    def metadata(self, workspace_id: str, document_id: str) -> dict[str, Any] | None:
        text = self.texts.get((workspace_id, document_id))
        return None if text is None else {"id": document_id, "sha256": f"sha-of-{text}"}

    def text(self, workspace_id: str, document_id: str) -> str:
        text = self.texts.get((workspace_id, document_id))
        if text is None:
            raise DocumentGone(document_id)
        return text


class FakeEngine:
    """Quotes the document's first word as its Parties; ``before`` runs first (to change the
    world while the engine runs), then ``guard`` is asked, as the LLM engine asks it before
    each request to its provider; ``texts`` are what it read, ``tokens`` what a run spends."""

    def __init__(self, name: str, model: str, tokens: int = 0) -> None:
        self.name, self.model, self.tokens = name, model, tokens
        self.texts: list[str] = []
        self.before: Callable[[], None] = lambda: None
        self.guard: Callable[[], str | None] = lambda: None

    def analyze(self, text: str) -> AnalysisResult:
        self.before()
        if (reason := self.guard()) is not None:
            raise Withdrawn(reason)
        self.texts.append(text)
        word = text.split()[0]
        return AnalysisResult(f"Parties: {word}.", [Clause("Parties", word, 1, 0, len(word), 0.9)],
                              self.name, self.model, self.tokens)


class FakeEngines:
    def __init__(self) -> None:
        self.offline_engine = FakeEngine(OFFLINE, OFFLINE_MODEL)
        self.llm_engine = FakeEngine("llm", LLM_MODEL, tokens=100)
        self.budgets: list[int] = []

    def offline(self) -> FakeEngine:
        return self.offline_engine

    def llm(self, budget_tokens: int, guard: Callable[[], str | None]) -> FakeEngine:
        self.budgets.append(budget_tokens)
        self.llm_engine.guard = guard
        return self.llm_engine


class FakeQuotas:
    def __init__(self) -> None:
        self.refuse = False
        self.reserved: list[tuple[str, dict[str, int], tuple[str, ...]]] = []

    def reserve(self, workspace_id: str, source_id: str, items: dict[str, int],
                checks: tuple[str, ...] = ()) -> None:
        if self.refuse:
            raise QuotaRefused(workspace_id)
        self.reserved.append((source_id, items, checks))


def fake_service(*, llm: bool = True, monthly_tokens: int = 1000) -> tuple[AiService, FakeUnitOfWork]:
    """The use cases' dependencies, all fakes; ``llm``: whether a provider is configured."""
    uow = FakeUnitOfWork()
    service = AiService(
        uow=lambda: uow, settings_peer=FakeSettingsPeer(), documents=FakeDocuments(),
        engines=FakeEngines(), models=EngineModels(OFFLINE_MODEL, LLM_MODEL if llm else None),
        monthly_tokens=monthly_tokens, stale_seconds=600.0, quotas=FakeQuotas())
    return service, uow
