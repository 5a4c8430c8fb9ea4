"""Public verification: ``POST /v1/receipts/verify`` (api.md) runs the standalone verifier
(``pactra_verify``) against Pactra's published keys and sealing chains; ``GET /verify`` is the
page where a person drops the files and sees each check's result.

Anyone may post files here, so nothing posted is parsed in this process: the original
document is only hashed, the sealed PDF is hashed as it is read from the request's spool and
parsed (seal, certificate text) only when that hash is the one the receipt names, and then
only in a sandbox child (adapters/pdf_sandbox.py)."""

import hashlib
import io
import json
import logging
import secrets
from dataclasses import dataclass
from importlib.resources import files
from typing import IO, Any

from flask import Blueprint, Response, request
from sqlalchemy import select

from pactra_platform import sandbox
from pactra_platform.problems import ProblemError
from pactra_verify.checks import NotAReceipt, check_document_digest, check_sealed_digest, verify

from ..adapters import pdf_sandbox
from ..adapters.keys import ensure_active_key, jwks
from ..adapters.orm import Receipt
from ..adapters.purging import tombstone_of
from ..adapters.seal_store import ensure_active_seal, published_chains
from ..domain import pdf_checks
from ..domain.canonical import jcs_sha256
from .views import receipts

public = Blueprint("verification", __name__)
log = logging.getLogger(__name__)
HASH_CHUNK = 256 * 1024
NOT_READ = "not read: the sealed PDF is not the one the receipt names"


@dataclass(frozen=True)
class Spooled:
    """A posted file, left where the form parser spooled it, with its SHA-256."""

    file: IO[bytes]
    sha256: str
    size: int


def _spooled(stream: IO[bytes]) -> Spooled | None:
    digest, size = hashlib.sha256(), 0
    stream.seek(0)
    while chunk := stream.read(HASH_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    stream.seek(0)
    return Spooled(stream, digest.hexdigest(), size) if size else None


def _json_part(raw: bytes, name: str) -> Any:
    try:
        return json.loads(raw)
    except RecursionError as exc:
        raise ProblemError("invalid_json", f"The {name} is nested too deeply to be JSON we read.") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        if name == "receipt":
            raise ProblemError("validation_error", f"The {name} is not JSON: {exc}") from exc
        raise ProblemError("validation_error", f"The {name} file is not JSON: {exc}") from exc


def _inputs() -> tuple[Any, Any, Spooled | None, Spooled | None]:
    if request.mimetype == "multipart/form-data":
        def file_part(name: str) -> Spooled | None:
            """A file is hashed from its spool, never read whole into memory."""
            upload = request.files.get(name)
            if upload is not None and upload.filename is not None:
                return _spooled(upload.stream)
            value = request.form.get(name)
            return _spooled(io.BytesIO(value.encode())) if value else None

        def part(name: str) -> bytes | None:
            upload = request.files.get(name)
            if upload is not None and upload.filename is not None:
                data = upload.read()
                return data or None
            value = request.form.get(name)
            return value.encode() if value else None

        receipt = part("receipt")
        if receipt is None:
            raise ProblemError("validation_error", "The receipt part is required.")
        audit = part("audit")
        return (_json_part(receipt, "receipt"), _json_part(audit, "audit") if audit else None,
                file_part("document"), file_part("signed_pdf"))
    if request.mimetype == "application/json":
        return _json_part(request.get_data(), "receipt"), None, None, None
    raise ProblemError("unsupported_media_type",
                       "Send the receipt as application/json, or files as multipart/form-data.")


@public.post("/v1/receipts/verify")
def verify_receipt() -> dict:
    receipt, audit, document, signed_pdf = _inputs()
    if audit is not None and not isinstance(audit, dict):
        audit = {"entries": audit} if isinstance(audit, list) else {}
    settings, sessions = receipts().settings, receipts().sessions
    ensure_active_key(sessions, settings.master_key)
    if not settings.seal_p12:
        ensure_active_seal(sessions, settings.master_key)
    with sessions() as session:
        keys, chains = jwks(session), published_chains(session, settings)
    try:
        report = verify(receipt, keys, audit, None, None, chains)
    except NotAReceipt as exc:
        raise ProblemError("validation_error", str(exc)) from exc
    if document is not None:
        check_document_digest(report, receipt, document.sha256)
    if signed_pdf is not None:
        if check_sealed_digest(report, receipt, signed_pdf.sha256):
            _check_signed_pdf(report, receipt, signed_pdf, chains)
        else:
            # Not the PDF the receipt names: nothing it says matters, so it is not parsed.
            for check in pdf_checks.PDF_CHECKS:
                report.skipped[check] = NOT_READ
    retained = _retained(sessions, receipt)
    notes = list(report.notes)
    if retained == "tombstone":
        notes.append("This receipt's agreement, or its whole workspace, no longer exists at "
                     "Pactra: only a tombstone of the receipt is kept (its id, agreement id, "
                     "issue time, hash and audit head). The receipt itself still verifies.")
    # The published keys are always at hand here, so the signature is always checked: `valid`
    # (api.md: none failed) and `verdict` agree; `verdict` would say `not_verified` were it not.
    return {"valid": report.valid, "verdict": report.verdict, "receipt_id": receipt.get("receipt_id"),
            "agreement_id": receipt.get("agreement_id"), "livemode": report.livemode,
            "checks": report.checks,
            "errors": report.errors, "skipped": report.skipped, "notes": notes,
            "retained": retained}


def _retained(sessions: Any, receipt: dict) -> str | None:
    """What Pactra still holds of this very receipt (same id, same JCS hash): ``full``, a
    ``tombstone`` after its agreement or workspace was purged, or None (unknown here)."""
    receipt_id = receipt.get("receipt_id")
    if not isinstance(receipt_id, str) or len(receipt_id) > 40:
        return None
    try:
        digest = jcs_sha256(receipt)
    except (TypeError, ValueError):
        return None
    with sessions() as session:
        kept = session.scalar(select(Receipt.sha256).where(Receipt.id == receipt_id))
        if kept is not None:
            return "full" if kept == digest else None
        stone = tombstone_of(session, receipt_id)
    return "tombstone" if stone is not None and stone.receipt_sha256 == digest else None


def _check_signed_pdf(report: Any, receipt: dict, signed_pdf: Spooled, chains: bytes) -> None:
    try:
        outcome = sandbox.run(pdf_sandbox.ENTRY,
                              {"receipt": receipt, "chain": chains.decode("ascii") or None},
                              signed_pdf.file, pdf_sandbox.LIMITS)
    except sandbox.SandboxError as exc:
        # The hash matched: this is the genuine sealed PDF, so a failure to check it is ours.
        log.warning("the sealed PDF of %s could not be checked: %s", receipt.get("receipt_id"), exc)
        raise ProblemError("unavailable", "The sealed PDF could not be checked just now.",
                           headers={"Retry-After": "10"}) from exc
    if outcome.returncode != 0 or not outcome.meta:
        log.warning("the sealed PDF of %s could not be checked: the checker exited with %d",
                    receipt.get("receipt_id"), outcome.returncode)
        raise ProblemError("unavailable", "The sealed PDF could not be checked just now.",
                           headers={"Retry-After": "10"})
    pdf_checks.merge(report, outcome.meta)


@public.get("/verify")
def verify_page() -> Response:
    nonce = secrets.token_urlsafe(16)
    page = files(__name__.rpartition(".")[0]).joinpath("verify.html").read_text().replace("{{nonce}}", nonce)
    return Response(page, mimetype="text/html", headers={
        "Content-Security-Policy": (f"default-src 'none'; script-src 'nonce-{nonce}'; "
                                    f"style-src 'nonce-{nonce}'; connect-src 'self'; "
                                    "img-src 'self' data:; form-action 'self'; base-uri 'none'; "
                                    "frame-ancestors 'none'"),
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    })
