"""What an analysis holds, whichever engine made it (api.md, "AI"), and the one interface over
the engines: the service and the evaluation both analyse through :func:`analyze_text`."""

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Clause:
    type: str
    text: str
    page: int
    start: int
    end: int
    confidence: float

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "text": self.text, "page": self.page, "start": self.start,
                "end": self.end, "confidence": round(self.confidence, 3)}


@dataclass(frozen=True)
class AnalysisResult:
    summary: str
    clauses: list[Clause]
    engine: str
    model: str
    tokens: int = 0
    details: dict[str, Any] = field(default_factory=dict)


def page_of(text: str, start: int) -> int:
    return 1 + text.count("\f", 0, start)


def make_clause(text: str, type_: str, start: int, end: int, confidence: float) -> Clause:
    return Clause(type_, text[start:end], page_of(text, start), start, end, confidence)


class Engine(Protocol):
    name: str
    model: str

    def analyze(self, text: str) -> AnalysisResult: ...


def analyze_text(engine: Engine, text: str) -> AnalysisResult:
    """Run the engine and keep only clauses whose offsets point at their text, whatever the
    engine claimed: ``text[start:end] == clause.text`` holds for every clause returned."""
    result = engine.analyze(text)
    kept = [clause for clause in result.clauses
            if 0 <= clause.start < clause.end <= len(text)
            and text[clause.start:clause.end] == clause.text]
    return AnalysisResult(result.summary, kept, result.engine, result.model, result.tokens,
                          result.details)
