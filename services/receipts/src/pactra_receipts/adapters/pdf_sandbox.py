"""The verify endpoint's PDF parsing, done in a sandbox child (:mod:`pactra_platform.sandbox`):
anyone may post a file to ``POST /v1/receipts/verify``, so pyHanko and pypdf read it with no
secrets, no network and bounded resources. Only what the child answers about the two PDF
checks is taken back (domain/pdf_checks.py).

This module is imported by the child: it must stay free of the service's other modules
(the domain's pdf_checks is plain Python)."""

import logging
from typing import IO, Any

from pactra_platform import sandbox

from ..domain.errors import PdfCheckUnavailable
from ..domain.pdf_checks import PDF_CHECKS, answer_of

log = logging.getLogger(__name__)

# Where the child finds its entry point (sandbox.run imports it by name).
ENTRY = f"{__name__}:sandboxed_pdf_checks"
LIMITS = sandbox.Limits(cpu_seconds=20, wall_seconds=40, memory_bytes=1024 * 1024 * 1024,
                        output_bytes=1024 * 1024)


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
    return answer_of(report), b""


def run_pdf_checks(receipt: dict[str, Any], chains: bytes, signed_pdf: IO[bytes]) -> dict[str, Any]:
    """The child's answer about ``signed_pdf`` (a file whose SHA-256 the receipt names)."""
    try:
        outcome = sandbox.run(ENTRY, {"receipt": receipt, "chain": chains.decode("ascii") or None},
                              signed_pdf, LIMITS)
    except sandbox.SandboxError as exc:
        # The hash matched: this is the genuine sealed PDF, so a failure to check it is ours.
        log.warning("the sealed PDF of %s could not be checked: %s", receipt.get("receipt_id"), exc)
        raise PdfCheckUnavailable(str(exc)) from exc
    if outcome.returncode != 0 or not outcome.meta:
        log.warning("the sealed PDF of %s could not be checked: the checker exited with %d",
                    receipt.get("receipt_id"), outcome.returncode)
        raise PdfCheckUnavailable(f"the checker exited with {outcome.returncode}")
    return outcome.meta
