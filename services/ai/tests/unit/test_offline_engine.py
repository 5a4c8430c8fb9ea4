"""The offline engine on CUAD contracts (shared/data/cuad) and on a long document."""

import resource
import subprocess
import sys

from pactra_ai.adapters.engines import offline_engine
from pactra_ai.domain.results import analyze_text
from pactra_devtools import cuad
from pactra_devtools.ai_evaluation import Report, score_contract


def test_finds_clauses_on_a_few_test_contracts() -> None:
    report = Report()
    for contract in cuad.load("test")[:5]:
        text = contract.text()
        result = analyze_text(offline_engine(), text)
        assert result.engine == "offline" and len(result.summary) <= 1200
        for clause in result.clauses:
            assert text[clause.start:clause.end] == clause.text
            assert clause.page == 1 + text.count("\f", 0, clause.start)
        score_contract(report, contract, result.clauses, result.summary)
    precision, recall, f1 = report.micro()
    assert f1 > 0.45, (precision, recall)
    law = report.per_type["Governing Law"]
    assert law.found >= 4


def test_summary_names_parties_and_governing_law() -> None:
    contract = next(c for c in cuad.load("test") if "Governing Law" in c.spans)
    result = analyze_text(offline_engine(), contract.text())
    assert "Governing law:" in result.summary and "between" in result.summary


CHILD = """
import resource, sys, time
from pactra_ai.adapters.engines import offline_engine
from pactra_ai.domain.results import analyze_text
from pactra_devtools import cuad
texts = [c.text() for c in cuad.load("test")]
pages, size = [], 0
while len(pages) < 100:
    text = texts[len(pages) % len(texts)]
    pages.append(text[:3500])
document = "\\f".join(pages)
began = time.monotonic()
result = analyze_text(offline_engine(), document)
elapsed = time.monotonic() - began
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(elapsed, peak, len(result.clauses), document.count("\\f") + 1)
"""


def test_hundred_pages_within_a_minute_and_512_mib() -> None:
    # A child process, so the peak memory measured is the engine's alone.
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                          timeout=120, check=True,
                          preexec_fn=lambda: resource.setrlimit(
                              resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3)))
    elapsed, peak, clauses, pages = done.stdout.split()
    assert int(pages) == 100 and int(clauses) > 20
    assert float(elapsed) < 60, elapsed
    assert int(peak) < 512 * 1024**2, peak
