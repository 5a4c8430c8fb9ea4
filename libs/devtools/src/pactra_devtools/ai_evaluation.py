"""Measuring an engine on the CUAD sample: ``python -m pactra_devtools.ai_evaluation --split test``
(``make eval-ai``; it lives here, not in the ai service, which never runs it).

Per clause type and micro-averaged over the 20 types: precision (predictions matching some
labelled span of their type), recall (spans matched by some prediction) and F1, by the word
rule in :mod:`pactra_ai.adapters.engines.offline.matching`. Summary coverage: per contract,
whether its labelled Governing Law answer, and two of its Parties spans (or its only one), have
all their words in the summary. ``--pdf`` feeds the contracts' PDFs through the documents
service's extraction.
"""

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from pactra_ai.adapters.engines import offline_engine
from pactra_ai.adapters.engines.offline.matching import matches, words
from pactra_ai.domain.clause_types import CLAUSE_TYPES
from pactra_ai.domain.results import Engine, analyze_text

from . import cuad


@dataclass
class Tally:
    predicted: int = 0
    correct: int = 0
    spans: int = 0
    found: int = 0

    def add(self, other: "Tally") -> None:
        self.predicted += other.predicted
        self.correct += other.correct
        self.spans += other.spans
        self.found += other.found

    def scores(self) -> tuple[float, float, float]:
        precision = self.correct / self.predicted if self.predicted else 0.0
        recall = self.found / self.spans if self.spans else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return precision, recall, f1


@dataclass
class Report:
    per_type: dict[str, Tally] = field(default_factory=lambda: {t: Tally() for t in CLAUSE_TYPES})
    checks: int = 0
    passed: int = 0
    contracts: int = 0
    longest_summary: int = 0

    def micro(self) -> tuple[float, float, float]:
        total = Tally()
        for tally in self.per_type.values():
            total.add(tally)
        return total.scores()

    def coverage(self) -> float:
        return self.passed / self.checks if self.checks else 0.0


def pdf_text(pdf_path: Path) -> tuple[str, str]:
    """The PDF's text as the documents service extracts it, and which extractor was used."""
    try:
        from pactra_documents.adapters.pdf_probe import inspect
    except ImportError:
        from pypdf import PdfReader

        reader = PdfReader(pdf_path)
        return "\f".join(page.extract_text() for page in reader.pages), "pypdf"
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "text.txt"
        verdict = inspect(pdf_path, out)
        if verdict.verdict != "ok":
            raise RuntimeError(f"{pdf_path.name}: {verdict.verdict} {verdict.detail}")
        return out.read_text(encoding="utf-8"), "pactra_documents.adapters.pdf_probe.inspect"


def _contained(span: str, summary_words: frozenset[str]) -> bool:
    span_words = words(span)
    return bool(span_words) and span_words <= summary_words


def score_contract(report: Report, contract: cuad.Contract, clauses: list, summary: str) -> None:
    for type_ in CLAUSE_TYPES:
        predicted = [words(clause.text) for clause in clauses if clause.type == type_]
        labelled = [words(span) for span in contract.spans.get(type_, [])]
        tally = report.per_type[type_]
        tally.predicted += len(predicted)
        tally.correct += sum(any(matches(p, g) for g in labelled) for p in predicted)
        tally.spans += len(labelled)
        tally.found += sum(any(matches(p, g) for p in predicted) for g in labelled)
    summary_words = words(summary)
    law = contract.answers.get("Governing Law", "").strip()
    report.checks += 2
    report.passed += bool(law) and _contained(law, summary_words)
    parties = contract.spans.get("Parties", [])
    needed = min(2, len(parties))
    report.passed += needed > 0 and sum(_contained(p, summary_words) for p in parties) >= needed
    report.contracts += 1
    report.longest_summary = max(report.longest_summary, len(summary))


def evaluate(engine: Engine, split: str, *, pdf: bool = False,
             root: Path = cuad.DEFAULT_ROOT) -> tuple[Report, str]:
    report = Report()
    extractor = "txt"
    for contract in cuad.load(split, root):
        if pdf:
            if contract.pdf_path is None:
                continue
            text, extractor = pdf_text(contract.pdf_path)
        else:
            text = contract.text()
        result = analyze_text(engine, text)
        score_contract(report, contract, result.clauses, result.summary)
    return report, extractor


def render(report: Report, title: str) -> str:
    lines = [f"== {title}: {report.contracts} contracts",
             f"{'type':38s} {'P':>6s} {'R':>6s} {'F1':>6s} {'pred':>5s} {'spans':>5s}"]
    for type_, tally in report.per_type.items():
        p, r, f = tally.scores()
        lines.append(f"{type_:38s} {p:6.3f} {r:6.3f} {f:6.3f} {tally.predicted:5d} {tally.spans:5d}")
    p, r, f = report.micro()
    lines.append(f"{'MICRO (20 types)':38s} {p:6.3f} {r:6.3f} {f:6.3f}")
    lines.append(f"summary coverage {report.coverage():.3f} ({report.passed}/{report.checks}), "
                 f"longest summary {report.longest_summary} chars")
    return "\n".join(lines)


def llm_engine_from_environment() -> Engine:
    """The LLM engine as the service would configure it (``PACTRA_AI_*``), with the month's
    whole token budget."""
    from pactra_ai.adapters.engines.llm.engine import LlmEngine
    from pactra_ai.config import AiSettings

    settings = AiSettings()
    if settings.llm is None:
        raise SystemExit("PACTRA_AI_BASE_URL is not set: no LLM provider configured")
    return LlmEngine(settings.llm, settings.ai_monthly_tokens)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engine", default="offline", choices=["offline", "llm"])
    parser.add_argument("--split", action="append", choices=["dev", "test"])
    parser.add_argument("--pdf", action="store_true", help="also run the PDF route")
    parser.add_argument("--data", type=Path, default=cuad.DEFAULT_ROOT)
    args = parser.parse_args(argv)
    engine = offline_engine() if args.engine == "offline" else llm_engine_from_environment()
    for split in args.split or ["dev", "test"]:
        began = time.monotonic()
        report, _ = evaluate(engine, split, root=args.data)
        print(render(report, f"{args.engine} / {split} / text ({time.monotonic() - began:.1f} s)"))
        if args.pdf:
            report, extractor = evaluate(engine, split, pdf=True, root=args.data)
            print(render(report, f"{args.engine} / {split} / PDF via {extractor}"))
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
