"""Public verification: ``POST /v1/receipts/verify`` (api.md) runs the standalone verifier
(``pactra_verify``) against Pactra's published keys and sealing chains; ``GET /verify`` is the
page where a person drops the files and sees each check's result."""

import json
import secrets
from importlib.resources import files
from typing import Any

from flask import Blueprint, Response, current_app, request
from pactra_verify.checks import NotAReceipt, verify

from pactra_platform.problems import ProblemError

from . import bootstrap
from .config import seal_settings
from .keys import ensure_active_key, jwks
from .seal_store import ensure_active_seal, published_chains

public = Blueprint("verification", __name__)


def _json_part(raw: bytes, name: str) -> Any:
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        if name == "receipt":
            raise ProblemError("validation_error", f"The {name} is not JSON: {exc}") from exc
        raise ProblemError("validation_error", f"The {name} file is not JSON: {exc}") from exc


def _inputs() -> tuple[Any, Any, bytes | None, bytes | None]:
    if request.mimetype == "multipart/form-data":
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
                part("document"), part("signed_pdf"))
    if request.mimetype == "application/json":
        return _json_part(request.get_data(), "receipt"), None, None, None
    raise ProblemError("unsupported_media_type",
                       "Send the receipt as application/json, or files as multipart/form-data.")


@public.post("/v1/receipts/verify")
def verify_receipt() -> dict:
    receipt, audit, document, signed_pdf = _inputs()
    if audit is not None and not isinstance(audit, dict):
        audit = {"entries": audit} if isinstance(audit, list) else {}
    settings, sealing = current_app.config["SETTINGS"], seal_settings()
    sessions = bootstrap.sessions(settings)
    ensure_active_key(sessions, settings.master_key)
    if not sealing.seal_p12:
        ensure_active_seal(sessions, settings.master_key)
    with sessions() as session:
        keys, chains = jwks(session), published_chains(session, sealing)
    try:
        report = verify(receipt, keys, audit, document, signed_pdf, chains)
    except NotAReceipt as exc:
        raise ProblemError("validation_error", str(exc)) from exc
    return {"valid": report.valid, "receipt_id": receipt.get("receipt_id"),
            "agreement_id": receipt.get("agreement_id"), "checks": report.checks,
            "errors": report.errors}


@public.get("/verify")
def verify_page() -> Response:
    nonce = secrets.token_urlsafe(16)
    page = files("pactra_receipts").joinpath("verify.html").read_text().replace("{{nonce}}", nonce)
    return Response(page, mimetype="text/html", headers={
        "Content-Security-Policy": (f"default-src 'none'; script-src 'nonce-{nonce}'; "
                                    f"style-src 'nonce-{nonce}'; connect-src 'self'; "
                                    "img-src 'self' data:; form-action 'self'; base-uri 'none'"),
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    })
