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
import secrets
from dataclasses import dataclass
from importlib.resources import files
from typing import IO, Any

from flask import Blueprint, Response, request

from pactra_platform.problems import ProblemError

from ..adapters.keys import ensure_active_key, jwks
from ..adapters.pdf_sandbox import run_pdf_checks
from ..adapters.purging import kept_digests
from ..adapters.seal_store import ensure_active_seal, published_chains
from ..service_layer.verification import Presented, Published, verify_presented
from .views import receipts

public = Blueprint("verification", __name__)
HASH_CHUNK = 256 * 1024


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
    settings, sessions = receipts().settings, receipts().sessions
    ensure_active_key(sessions, settings.master_key)
    if not settings.seal_p12:
        ensure_active_seal(sessions, settings.master_key)
    with sessions() as session:
        published = Published(jwks(session), published_chains(session, settings))

    def kept(receipt_id: str) -> tuple[str | None, str | None]:
        with sessions() as session:
            return kept_digests(session, receipt_id)

    def check_pdf(receipt: dict, chains: bytes) -> dict:
        assert signed_pdf is not None  # asked only when a sealed PDF was posted
        return run_pdf_checks(receipt, chains, signed_pdf.file)

    presented = Presented(receipt, audit, document.sha256 if document else None,
                          signed_pdf.sha256 if signed_pdf else None)
    return verify_presented(presented, published, kept=kept, check_pdf=check_pdf)


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
