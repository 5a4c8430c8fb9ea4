"""An analysis job and the workspace settings that govern it.

A request records a pending analysis; a runner claims it (running), runs an engine outside
any transaction, then finishes it: ready with a result, back to pending for another attempt
when the failure is worth one, or failed. A running analysis whose runner vanished may be
claimed again. Whatever its status, a new request for other bytes or another engine starts
it over; the runner whose analysis was started over finds it no longer running and drops
its result. The API shows a running analysis as pending (its status is the job's, not the
runner's).
"""

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from .errors import IllegalTransition
from .results import AnalysisResult

PENDING, RUNNING, READY, FAILED = "pending", "running", "ready", "failed"
OFFLINE, LLM = "offline", "llm"

MAX_ATTEMPTS = 3
# Failures worth another attempt: the engine's, and the gateway not answering.
RETRIED = ("engine_error", "settings_unavailable")


@dataclass(frozen=True)
class AiChoices:
    """A workspace's AI settings: whether analysis may run at all, with which engine, and
    whether every upload is analysed."""

    ai_enabled: bool
    ai_engine: str
    ai_auto_analyze: bool

    def changed(self, changes: dict[str, Any]) -> "AiChoices":
        """These choices with the AI settings among a ``workspace.updated`` event's changes."""
        return replace(self, **{name: changes[name] for name in AI_SETTINGS if name in changes})

    @property
    def analyses_uploads(self) -> bool:
        return self.ai_enabled and self.ai_auto_analyze


AI_SETTINGS = ("ai_enabled", "ai_engine", "ai_auto_analyze")
# What a new workspace starts with (and a workspace.updated that overtook its creation).
NEW_WORKSPACE = AiChoices(ai_enabled=True, ai_engine=OFFLINE, ai_auto_analyze=False)
# What a workspace the gateway no longer knows may do: nothing.
NOTHING_ALLOWED = AiChoices(ai_enabled=False, ai_engine=OFFLINE, ai_auto_analyze=False)


@dataclass(frozen=True)
class EngineModels:
    """The models this platform runs: the offline engine's always; the LLM's only when a
    provider is configured (``llm`` None: every workspace gets the offline engine)."""

    offline: str
    llm: str | None

    def chosen(self, choices: AiChoices) -> tuple[str, str]:
        """The engine and model an analysis for a workspace with these choices runs with."""
        if choices.ai_engine == LLM and self.llm is not None:
            return LLM, self.llm
        return OFFLINE, self.offline

    def refusal(self, choices: AiChoices, engine: str) -> str | None:
        """Why an analysis with ``engine`` may not start (or go on) under ``choices``, or None."""
        if not choices.ai_enabled:
            return "ai_disabled"
        if self.chosen(choices)[0] != engine:
            return "engine_changed"
        return None


def month_of(moment: datetime) -> str:
    """The calendar month (UTC) LLM tokens are counted in."""
    return moment.strftime("%Y-%m")


def auto_analysis_wanted(choices: AiChoices, existing: "Analysis | None") -> bool:
    """Whether an upload gets an analysis of its own accord: the workspace asks for it and
    the document has none yet."""
    return choices.analyses_uploads and existing is None


@dataclass(frozen=True)
class CachedResult:
    """A finished result kept by (workspace, document hash, engine, model)."""

    summary: str
    clauses: list[dict[str, Any]]


@dataclass(eq=False)
class Analysis:
    """One document's analysis in one workspace (an entity: equal only to itself)."""

    id: str
    workspace_id: str
    document_id: str
    sha256: str | None
    status: str
    engine: str
    model: str
    created_at: datetime
    updated_at: datetime
    summary: str | None = None
    clauses: list[dict[str, Any]] | None = None
    error: str | None = None
    attempts: int = 0
    claimed_at: datetime | None = None

    @classmethod
    def requested(cls, id: str, workspace_id: str, document_id: str, sha256: str | None,
                  engine: str, model: str, now: datetime) -> "Analysis":
        return cls(id=id, workspace_id=workspace_id, document_id=document_id, sha256=sha256,
                   status=PENDING, engine=engine, model=model, created_at=now, updated_at=now)

    @property
    def public_status(self) -> str:
        """The status the API shows: a running analysis is still pending to its reader."""
        return PENDING if self.status == RUNNING else self.status

    def is_of(self, sha256: str, engine: str, model: str) -> bool:
        """Whether this analysis is of these bytes with this engine and model."""
        return (self.sha256, self.engine, self.model) == (sha256, engine, model)

    def answers(self, sha256: str, engine: str, model: str) -> bool:
        """Whether this analysis already answers a request for these bytes with this engine
        and model: done, or under way (a failed one is started over)."""
        return self.is_of(sha256, engine, model) and self.status in (PENDING, RUNNING, READY)

    def start_over(self, sha256: str, engine: str, model: str, now: datetime) -> None:
        """Pending again, for these bytes with this engine: whatever it held is dropped."""
        self.sha256, self.engine, self.model = sha256, engine, model
        self.summary, self.clauses, self.error, self.attempts = None, None, None, 0
        self.claimed_at, self.updated_at, self.status = None, now, PENDING

    def answer_from(self, cached: CachedResult) -> None:
        """Ready at once with a result the workspace already has for the same bytes."""
        self._require(PENDING)
        self.status, self.summary, self.clauses = READY, cached.summary, cached.clauses

    def refuse(self, error: str) -> None:
        """Failed before it ran (the plan's quota refused it)."""
        self._require(PENDING)
        self.status, self.error = FAILED, error

    def claimable(self, stale_before: datetime) -> bool:
        """Pending, or running under a runner that vanished (claimed before ``stale_before``)."""
        return self.status == PENDING or (
            self.status == RUNNING and self.claimed_at is not None and self.claimed_at < stale_before)

    def claim(self, now: datetime, stale_before: datetime) -> None:
        if not self.claimable(stale_before):
            raise IllegalTransition(f"analysis {self.id} is {self.status}: not claimable")
        self.status, self.claimed_at, self.updated_at = RUNNING, now, now
        self.attempts += 1

    def succeed(self, result: AnalysisResult, now: datetime) -> None:
        self._require(RUNNING)
        self.status, self.summary, self.updated_at = READY, result.summary, now
        self.clauses = [clause.as_dict() for clause in result.clauses]
        self.engine, self.model = result.engine, result.model

    def fail(self, error: str, now: datetime) -> bool:
        """Record a failed run: pending again when the failure is worth another attempt and
        attempts are left, else failed. True when that is final (failed)."""
        self._require(RUNNING)
        self.error, self.updated_at = error, now
        if error.startswith(RETRIED) and self.attempts < MAX_ATTEMPTS:
            self.status = PENDING
            return False
        self.status = FAILED
        return True

    def _require(self, status: str) -> None:
        if self.status != status:
            raise IllegalTransition(f"analysis {self.id} is {self.status}, not {status}")
