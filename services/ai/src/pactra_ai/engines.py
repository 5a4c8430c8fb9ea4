"""One interface over both engines; the service and the evaluation both analyse through here."""

from typing import Protocol

from .analysis_types import AnalysisResult


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


def offline_engine() -> Engine:
    from .offline.engine import OfflineEngine

    return OfflineEngine()
