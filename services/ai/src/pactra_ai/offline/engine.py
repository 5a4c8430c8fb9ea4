"""The offline engine: everything runs in this process from files shipped in the package."""

from ..analysis_types import AnalysisResult, Clause, make_clause
from . import entities, summary
from .clause_model import shared_model
from .segment import units

ENGINE = "offline"
MODEL = "pactra-offline-1"
# A type rarely appears more than a few times; past that, extra hits are mostly noise.
MAX_PER_TYPE = 6


class OfflineEngine:
    name = ENGINE
    model = MODEL

    def analyze(self, text: str) -> AnalysisResult:
        clauses = [make_clause(text, found.type, found.start, found.end, found.confidence)
                   for found in [*entities.parties(text), *entities.dates(text)]]
        clauses.extend(self._sentence_clauses(text))
        return AnalysisResult(summary.build(text, clauses), clauses, ENGINE, MODEL)

    def _sentence_clauses(self, text: str) -> list[Clause]:
        pieces = units(text)
        if not pieces:
            return []
        model = shared_model()
        scores = model.scores(pieces)
        clauses: list[Clause] = []
        for column, type_ in enumerate(model.types):
            threshold = float(model.thresholds[column])
            chosen = [i for i in range(len(pieces)) if scores[i, column] >= threshold]
            if not chosen:
                best = int(scores[:, column].argmax())
                if scores[best, column] >= threshold * 0.8:
                    chosen = [best]
            chosen = sorted(chosen, key=lambda i: -scores[i, column])[:MAX_PER_TYPE]
            for index in sorted(chosen):
                unit = pieces[index]
                clauses.append(make_clause(text, type_, unit.start, unit.end,
                                           float(scores[index, column])))
        return clauses
