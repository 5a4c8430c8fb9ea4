"""The offline engine: everything runs in this process from files shipped in the package."""

from ....domain.results import AnalysisResult, Clause, make_clause
from . import entities, summary
from .clause_model import chosen_units, shared_model
from .phrases import phrase_units
from .segment import units

ENGINE = "offline"
MODEL = "pactra-offline-2"


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
        for column, (type_, rule) in enumerate(zip(model.types, model.rules, strict=True)):
            chosen = {*chosen_units(scores[:, column], rule), *phrase_units(pieces, type_)}
            for index in sorted(chosen):
                unit = pieces[index]
                clauses.append(make_clause(text, type_, unit.start, unit.end,
                                           float(scores[index, column])))
        return clauses
