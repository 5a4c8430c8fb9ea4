"""What an analysis holds, whichever engine made it (api.md, "AI")."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Clause:
    type: str
    text: str
    page: int
    start: int
    end: int
    confidence: float

    def as_dict(self) -> dict:
        return {"type": self.type, "text": self.text, "page": self.page, "start": self.start,
                "end": self.end, "confidence": round(self.confidence, 3)}


@dataclass(frozen=True)
class AnalysisResult:
    summary: str
    clauses: list[Clause]
    engine: str
    model: str
    tokens: int = 0
    details: dict = field(default_factory=dict)


def page_of(text: str, start: int) -> int:
    return 1 + text.count("\f", 0, start)


def make_clause(text: str, type_: str, start: int, end: int, confidence: float) -> Clause:
    return Clause(type_, text[start:end], page_of(text, start), start, end, confidence)


class Withdrawn(Exception):
    """The workspace no longer allows the analysis to go on (``reason``: ``ai_disabled``,
    ``engine_changed``, or ``settings_unavailable`` when the gateway could not say);
    ``tokens`` were spent before it was stopped."""

    def __init__(self, reason: str, tokens: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.tokens = tokens
