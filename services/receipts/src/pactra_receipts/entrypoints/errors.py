"""The one place where the receipts service's domain errors become problem documents."""

from flask import Flask, Response

from pactra_contracts.evidence_reasons import code_of, evidence_reason
from pactra_platform.problems import ProblemError, problem_response

from ..domain.errors import (
    AgreementNotFound,
    EvidenceFailed,
    EvidenceStillIssuing,
    NotVerifiable,
    PdfCheckUnavailable,
)

# How soon to ask again when the sealed PDF could not be checked.
PDF_CHECK_RETRY_AFTER = "10"


def problem_of(exc: Exception) -> ProblemError:
    if isinstance(exc, AgreementNotFound):
        return ProblemError("not_found", str(exc))
    if isinstance(exc, EvidenceStillIssuing):
        return ProblemError("conflict", str(exc))
    if isinstance(exc, EvidenceFailed):
        # 409 evidence_failed carries the stable reason; anything else recorded is shown as
        # "internal", never as it was written.
        shown = exc.reason if exc.reason and code_of(exc.reason) else evidence_reason("internal")
        return ProblemError("evidence_failed", f"Making the agreement's evidence failed ({shown}).",
                            evidence_reason=shown)
    if isinstance(exc, NotVerifiable):
        return ProblemError("validation_error", str(exc))
    if isinstance(exc, PdfCheckUnavailable):
        return ProblemError("unavailable", "The sealed PDF could not be checked just now.",
                            headers={"Retry-After": PDF_CHECK_RETRY_AFTER})
    raise TypeError(f"{type(exc).__name__} is not a domain error")


def _answer(exc: Exception) -> Response:
    problem = problem_of(exc)
    return problem_response(problem.problem, problem.headers)


def register_errors(app: Flask) -> None:
    for error in (AgreementNotFound, EvidenceStillIssuing, EvidenceFailed, NotVerifiable,
                  PdfCheckUnavailable):
        app.register_error_handler(error, _answer)
