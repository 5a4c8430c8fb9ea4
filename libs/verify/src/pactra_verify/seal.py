"""The PAdES seal of ``signed.pdf``: intact, covering the whole file, and — when the sealing
chain is given — made by a certificate of that chain (pyHanko's validator, offline)."""

import io

from .checks import Report


def _trust_roots(chain_pem: bytes) -> list:
    from asn1crypto import pem, x509

    return [x509.Certificate.load(der) for _, _, der in pem.unarmor(chain_pem, multiple=True)]


def check_seal(report: Report, signed_pdf: bytes, chain_pem: bytes | None) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        signatures = PdfFileReader(io.BytesIO(signed_pdf), strict=False).embedded_signatures
    except Exception as exc:  # a PDF pyHanko cannot read fails the check, it does not crash
        report.fail("pdf_seal", f"the PDF cannot be read ({type(exc).__name__})")
        return
    if len(signatures) != 1:
        report.fail("pdf_seal", f"expected one PDF signature, found {len(signatures)}")
        return
    context = ValidationContext(
        trust_roots=_trust_roots(chain_pem) if chain_pem else None,
        allow_fetching=False, revocation_mode="soft-fail")
    try:
        status = validate_pdf_signature(signatures[0], context)
    except Exception as exc:
        report.fail("pdf_seal", f"the signature cannot be validated ({type(exc).__name__}: {exc})")
        return
    if not (status.intact and status.valid):
        report.fail("pdf_seal", "the PDF signature is broken: the signed bytes were changed")
    elif status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        report.fail("pdf_seal", "the PDF signature does not cover the whole file")
    elif chain_pem and not status.trusted:
        report.fail("pdf_seal", "the PDF was not sealed by a certificate of the given chain")
    else:
        report.passed("pdf_seal")
        if not chain_pem:
            report.notes.append("pdf_seal: the seal is intact and covers the whole file, but the "
                                "certificate that made it was not checked (no sealing chain given)")
