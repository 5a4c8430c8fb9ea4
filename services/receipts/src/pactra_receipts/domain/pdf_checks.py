"""The verify endpoint's two PDF checks, whose parsing runs in a sandbox child
(adapters/pdf_sandbox.py): which checks the child answers for, the shape of its answer, and
how much of an answer is trusted (only well-formed check results and short messages: the
child parsed a file anyone may post)."""

from typing import Any

from pactra_verify.checks import Report

PDF_CHECKS = ("pdf_seal", "certificate_text")
MAX_MESSAGE = 500
MAX_NOTES = 5


def answer_of(report: Report) -> dict[str, Any]:
    """In the child: what it answers of ``report``, the PDF checks' results alone."""
    return {"checks": {check: report.checks[check] for check in PDF_CHECKS},
            "errors": [error for error in report.errors if error.split(":")[0] in PDF_CHECKS],
            "notes": [note for note in report.notes if note.split(":")[0] in PDF_CHECKS]}


def merge(report: Report, answer: dict[str, Any]) -> None:
    """Take the child's results into ``report``, trusting only well-formed check results and
    short messages."""
    checks = answer.get("checks") if isinstance(answer.get("checks"), dict) else {}
    assert isinstance(checks, dict)
    errors = answer.get("errors")
    messages = {check: [str(error)[:MAX_MESSAGE] for error in (errors if isinstance(errors, list) else [])
                        if isinstance(error, str) and error.startswith(f"{check}: ")]
                for check in PDF_CHECKS}
    for check in PDF_CHECKS:
        result = checks.get(check)
        if result == "pass":
            report.passed(check)
        elif result == "fail":
            reasons = messages[check] or [f"{check}: the check failed"]
            report.fail(check, reasons[0].split(": ", 1)[1])
    notes = answer.get("notes")
    if isinstance(notes, list):
        report.notes.extend(str(note)[:MAX_MESSAGE] for note in notes[:MAX_NOTES] if isinstance(note, str))
