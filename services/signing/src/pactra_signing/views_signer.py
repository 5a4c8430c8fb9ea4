"""The signer's side: ``/s/{token}`` — the signing page, its data, the document, sign, decline,
and read-only access to the signer's copy of the evidence once the agreement ended."""

from flask import Blueprint, Response, current_app, g, render_template, request, stream_with_context

from pactra_contracts.api import DeclineRequest, SignRequest
from pactra_contracts.events import Actor
from pactra_contracts.times import format_time
from pactra_platform.problems import ProblemError, parse_json_body
from pactra_platform.web import current_identity

from . import signer_actions
from .bootstrap import Signing
from .models import Agreement, Signer

bp = Blueprint("signer", __name__, template_folder="templates", static_folder="static",
               static_url_path="/s/static")
EVIDENCE = {"receipt": "receipt", "audit": "audit", "signed.pdf": "signed.pdf"}
PASSED_HEADERS = ("Content-Type", "Content-Length", "Content-Disposition")


def signing() -> Signing:
    return current_app.extensions["pactra_signing"]


def _context():
    identity = current_identity()
    return signing().context(g.request_id, Actor(kind="system", id="signer-page")), identity


def _view(token: str) -> tuple[Agreement, Signer]:
    ctx, identity = _context()
    return signer_actions.view(token, ctx, signing().uow(), identity.client_ip, identity.user_agent)


def _info(agreement: Agreement, signer: Signer) -> dict:
    return {
        "title": agreement.title,
        "message": agreement.message,
        "status": signer.status,
        "agreement_status": agreement.status,
        "expires_at": format_time(agreement.expires_at),
        "pages": agreement.document_pages,
        "sender": {"name": agreement.sender_name, "email": agreement.sender_email},
        "signer": {"id": signer.id, "name": signer.name, "email": signer.email},
        "fields": [{"id": f.id, "type": f.type, "page": f.page, "required": f.required,
                    "value": f.value} for f in agreement.fields if f.signer_id == signer.id],
        "evidence_status": agreement.evidence_status,
    }


@bp.get("/s/<token>")
def page(token: str):
    agreement, signer = _view(token)
    can_sign = agreement.status == "sent" and signer.status in ("invited", "viewed")
    html = render_template("signer.html", token=token, info=_info(agreement, signer), can_sign=can_sign)
    return html, 200, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
                       "Referrer-Policy": "no-referrer", "X-Frame-Options": "SAMEORIGIN",
                       "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                                                  "style-src 'self'; script-src 'self'"}


@bp.get("/s/<token>/info")
def info(token: str):
    agreement, signer = _view(token)
    return _info(agreement, signer)


def _relay(upstream) -> Response:
    if upstream.status_code != 200:
        upstream.close()
        raise ProblemError("not_found" if upstream.status_code in (404, 409) else "unavailable",
                           "That is not available (yet).")
    headers = {name: upstream.headers[name] for name in PASSED_HEADERS if name in upstream.headers}
    headers["Cache-Control"] = "no-store"
    response = Response(stream_with_context(upstream.iter_content(64 * 1024)), headers=headers)
    response.call_on_close(upstream.close)
    return response


@bp.get("/s/<token>/document")
def document(token: str):
    agreement, _ = _view(token)
    svc = signing()
    return _relay(svc.peers.stream(svc.peers.documents, f"/v1/documents/{agreement.document_id}/content",
                                   agreement.workspace_id))


@bp.get("/s/<token>/pages/<int:number>.png")
def page_image(token: str, number: int):
    agreement, _ = _view(token)
    if not 1 <= number <= agreement.document_pages:
        raise ProblemError("not_found", "No such page.")
    svc = signing()
    return _relay(svc.peers.stream(
        svc.peers.documents, f"/v1/documents/{agreement.document_id}/pages/{number}", agreement.workspace_id))


@bp.post("/s/<token>/sign")
def sign(token: str):
    cmd = parse_json_body(SignRequest, request.get_data(cache=False))
    ctx, identity = _context()
    outcome = signer_actions.sign(token, cmd, ctx, signing().uow(), identity.client_ip, identity.user_agent)
    return {"status": outcome.signer_status, "agreement_status": outcome.agreement_status}


@bp.post("/s/<token>/decline")
def decline(token: str):
    cmd = parse_json_body(DeclineRequest, request.get_data(cache=False))
    ctx, identity = _context()
    outcome = signer_actions.decline(token, cmd.reason, ctx, signing().uow(), identity.client_ip,
                                     identity.user_agent)
    return {"status": outcome.signer_status, "agreement_status": outcome.agreement_status}


@bp.get("/s/<token>/<any(receipt, audit, 'signed.pdf'):kind>")
def evidence(token: str, kind: str):
    with signing().uow() as uow:
        agreement, _ = signer_actions.find(uow, token)
    if not agreement.ended:
        raise ProblemError("not_found", "The evidence exists once the agreement has ended.")
    svc = signing()
    return _relay(svc.peers.stream(svc.peers.receipts, f"/v1/agreements/{agreement.id}/{EVIDENCE[kind]}",
                                   agreement.workspace_id))
