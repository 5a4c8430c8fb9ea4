"""The signer's side: ``/s/{token}`` — the signing page, its data, the document, sign, decline,
and read-only access to the signer's copy of the evidence once the agreement ended."""

import json

from flask import Blueprint, Response, current_app, g, render_template, request, stream_with_context

from pactra_contracts import resources
from pactra_contracts.api import DeclineRequest, SignRequest
from pactra_contracts.events import Actor
from pactra_platform.problems import ProblemError, parse_json_body
from pactra_platform.web import current_identity

from ..bootstrap import Signing
from ..domain.agreement import Agreement, Signer
from ..service_layer import signer_actions
from .presenters import signing_info

bp = Blueprint("signer", __name__, template_folder="templates", static_folder="static",
               static_url_path="/s/static")
EVIDENCE = {"receipt": "receipt", "audit": "audit", "signed.pdf": "signed.pdf"}
PASSED_HEADERS = ("Content-Type", "Content-Length", "Content-Disposition")


def signing() -> Signing:
    return current_app.extensions["pactra_signing"]


@bp.before_request
def json_posts_only() -> None:
    # A signer's action is a JSON document the page's script sends; a form post (which another
    # site can make a browser send without CORS) or any other body is refused before parsing.
    if request.method == "POST" and request.mimetype != "application/json":
        raise ProblemError("unsupported_media_type", "Send the body as application/json.")


def _context():
    identity = current_identity()
    return signing().context(g.request_id, Actor(kind="system", id="signer-page")), identity


def _view(token: str) -> tuple[Agreement, Signer]:
    ctx, identity = _context()
    return signer_actions.view(token, ctx, signing().uow(), identity.client_ip, identity.user_agent)


@bp.get("/s/<token>")
def page(token: str):
    agreement, signer = _view(token)
    html = render_template("signer.html", token=token, info=signing_info(agreement, signer),
                           can_sign=agreement.can_sign(signer))
    return html, 200, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
                       "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
                       # Never framed (clickjacking a signature), no <base> to redirect its
                       # scripts, and its forms post nowhere but here.
                       "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                                                  "style-src 'self'; script-src 'self'; "
                                                  "frame-ancestors 'none'; base-uri 'none'; "
                                                  "form-action 'self'"}


@bp.get("/s/<token>/info")
def info(token: str):
    agreement, signer = _view(token)
    return signing_info(agreement, signer)


def _relay(upstream, *, gone_when_missing: bool = False) -> Response:
    if upstream.status_code != 200:
        upstream.close()
        if gone_when_missing and upstream.status_code == 404:
            raise ProblemError("gone", "The document of this agreement no longer exists.")
        raise ProblemError("not_found" if upstream.status_code in (404, 409) else "unavailable",
                           "That is not available (yet).")
    headers = {name: upstream.headers[name] for name in PASSED_HEADERS if name in upstream.headers}
    headers["Cache-Control"] = "no-store"
    response = Response(stream_with_context(upstream.iter_content(64 * 1024)), headers=headers)
    response.call_on_close(upstream.close)
    return response


def _document_readable(token: str) -> Agreement:
    """The agreement whose document the signer may still read: only while it can be signed.
    Ending an agreement ends access to its document (the link alone is the credential, and it
    sits in a mailbox for good); a completed one offers its signed copy and evidence instead."""
    agreement, signer = _view(token)
    if agreement.status == "completed":
        raise ProblemError("gone", "This agreement is completed: its signed copy is at "
                                   f"/s/{token}/signed.pdf, its receipt and audit trail beside it.")
    if agreement.ended:
        raise ProblemError("gone", f"This agreement was {agreement.status}: its document is no "
                                   "longer available.")
    if signer.status == "declined":
        raise ProblemError("gone", "You declined this agreement: its document is no longer available.")
    return agreement


@bp.get("/s/<token>/document")
def document(token: str):
    agreement = _document_readable(token)
    svc = signing()
    return _relay(svc.peers.stream(svc.peers.documents, f"/v1/documents/{agreement.document_id}/content",
                                   agreement.workspace_id), gone_when_missing=True)


@bp.get("/s/<token>/pages/<int:number>.png")
def page_image(token: str, number: int):
    agreement = _document_readable(token)
    if not 1 <= number <= agreement.document_pages:
        raise ProblemError("not_found", "No such page.")
    svc = signing()
    return _relay(svc.peers.stream(
        svc.peers.documents, f"/v1/documents/{agreement.document_id}/pages/{number}", agreement.workspace_id),
        gone_when_missing=True)


@bp.post("/s/<token>/sign")
def sign(token: str):
    cmd = parse_json_body(SignRequest, request.get_data(cache=False))
    ctx, identity = _context()
    outcome = signer_actions.sign(token, cmd, ctx, signing().uow(), identity.client_ip, identity.user_agent)
    return _outcome(outcome)


@bp.post("/s/<token>/decline")
def decline(token: str):
    cmd = parse_json_body(DeclineRequest, request.get_data(cache=False))
    ctx, identity = _context()
    outcome = signer_actions.decline(token, cmd.reason, ctx, signing().uow(), identity.client_ip,
                                     identity.user_agent)
    return _outcome(outcome)


def _outcome(outcome: signer_actions.Outcome) -> dict:
    return resources.SignerOutcome(status=outcome.signer_status,
                                   agreement_status=outcome.agreement_status).model_dump(mode="json")


@bp.get("/s/<token>/<any(receipt, audit, 'signed.pdf'):kind>")
def evidence(token: str, kind: str):
    with signing().uow() as uow:
        agreement, signer = signer_actions.find(uow, token)
    if not agreement.ended:
        raise ProblemError("not_found", "The evidence exists once the agreement has ended.")
    svc = signing()
    upstream = svc.peers.stream(svc.peers.receipts, f"/v1/agreements/{agreement.id}/{EVIDENCE[kind]}",
                                agreement.workspace_id)
    if kind != "audit" or upstream.status_code != 200:
        return _relay(upstream)
    try:
        trail = upstream.json()
    finally:
        upstream.close()
    return Response(json.dumps(signer_audit(trail, signer.id)), mimetype="application/json",
                    headers={"Cache-Control": "no-store"})


MASKED = "masked"


def signer_audit(trail: dict, signer_id: str) -> dict:
    """The trail as one signer may see it: their own IP address and user agent, everyone
    else's (other signers', the sender's API calls) masked. The entries' hashes stay those of
    the full trail, so the masked entries no longer match them: the sender's
    ``GET /v1/agreements/{id}/audit`` is the copy that verifies, and the receipt (which the
    signer may hold) commits to it."""
    entries = []
    for entry in trail.get("entries", []):
        actor = entry.get("actor") or {}
        if actor.get("id") != signer_id:
            actor = {**actor, **{key: MASKED for key in ("ip", "user_agent") if actor.get(key) is not None}}
        entries.append({**entry, "actor": actor})
    return {**trail, "entries": entries}
