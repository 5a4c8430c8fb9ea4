"""The verify endpoint's PDF parsing, done in a sandbox child (:mod:`pactra_platform.sandbox`):
anyone may post a file to ``POST /v1/receipts/verify``, so pyHanko and pypdf read it with no
secrets, no network and bounded resources. Only what the child answers about the two PDF
checks is taken back, and only in the shape a check result has.

This module is imported by the child: it must stay free of the service's own modules.
"""

from pactra_platform import sandbox

PDF_CHECKS = ("pdf_seal", "certificate_text")
LIMITS = sandbox.Limits(cpu_seconds=20, wall_seconds=40, memory_bytes=1024 * 1024 * 1024,
                        output_bytes=1024 * 1024)
MAX_MESSAGE = 500


def sandboxed_pdf_checks(meta: dict, signed_pdf: bytes) -> tuple[dict, bytes]:
    """In the child: the PDF checks of ``meta["receipt"]`` against the posted sealed PDF."""
    import sys

    from pactra_verify.checks import Report, check_signed_pdf

    sys.setrecursionlimit(5000)
    report = Report()
    chain = meta.get("chain")
    try:
        check_signed_pdf(report, meta["receipt"], signed_pdf, chain.encode() if chain else None)
    except (RecursionError, MemoryError) as exc:
        for check in PDF_CHECKS:
            if report.checks[check] == "skipped":
                report.fail(check, f"the PDF cannot be read ({type(exc).__name__})")
    return {"checks": {check: report.checks[check] for check in PDF_CHECKS},
            "errors": [error for error in report.errors if error.split(":")[0] in PDF_CHECKS],
            "notes": [note for note in report.notes if note.split(":")[0] in PDF_CHECKS]}, b""


def merge(report: object, answer: dict) -> None:
    """Take the child's results into ``report`` (a ``pactra_verify`` Report), trusting only
    well-formed check results and short messages."""
    checks = answer.get("checks") if isinstance(answer.get("checks"), dict) else {}
    messages = {check: [str(error)[:MAX_MESSAGE] for error in answer.get("errors", [])
                        if isinstance(error, str) and error.startswith(f"{check}: ")]
                for check in PDF_CHECKS}
    for check in PDF_CHECKS:
        result = checks.get(check)
        if result == "pass":
            report.passed(check)  # type: ignore[attr-defined]
        elif result == "fail":
            reasons = messages[check] or [f"{check}: the check failed"]
            report.fail(check, reasons[0].split(": ", 1)[1])  # type: ignore[attr-defined]
    notes = answer.get("notes")
    if isinstance(notes, list):
        report.notes.extend(  # type: ignore[attr-defined]
            str(note)[:MAX_MESSAGE] for note in notes[:5] if isinstance(note, str))
