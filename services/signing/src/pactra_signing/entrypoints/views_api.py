"""Agreements, as the API (through the gateway) sees them."""

from flask import Blueprint, Response, current_app, g, request

from pactra_contracts import resources
from pactra_contracts.api import AgreementCreate, VoidRequest
from pactra_contracts.events import Actor
from pactra_platform.problems import ProblemError, parse_json_body
from pactra_platform.web import (
    current_identity,
    livemode_filter,
    mode_of_new_objects,
    require_workspace,
)

from ..adapters import read_model
from ..bootstrap import Signing
from ..domain.errors import NotFound
from ..service_layer import abuse, agreements, retention
from ..service_layer.context import Context
from .presenters import agreement_json

bp = Blueprint("agreements", __name__)
STATUSES = ("draft", "sent", "completed", "declined", "voided", "expired")


def signing() -> Signing:
    return current_app.extensions["pactra_signing"]


def context() -> Context:
    identity = current_identity()
    actor = Actor(kind="api_key", id=identity.api_key_id or identity.calling_service or "unknown",
                  ip=identity.client_ip, user_agent=identity.user_agent)
    return signing().context(g.request_id, actor)


def _body(model):
    return parse_json_body(model, request.get_data(cache=False))


@bp.post("/v1/agreements")
def create_agreement():
    workspace_id = require_workspace()
    cmd = _body(AgreementCreate)
    svc = signing()
    livemode = mode_of_new_objects()
    # Asked in the agreement's mode: a test agreement can use only a test document.
    document = svc.peers.document(workspace_id, cmd.document_id, livemode=livemode)
    sender = agreements.sender_of(svc.uow, workspace_id)
    agreement = agreements.create(cmd, workspace_id, document, sender, context(), svc.uow(),
                                  livemode=livemode)
    return agreement_json(agreement), 201


@bp.get("/v1/agreements")
def list_agreements():
    workspace_id = require_workspace()
    raw_limit = request.args.get("limit", "20")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 100:
        raise ProblemError("validation_error", "limit must be an integer from 1 to 100.")
    limit = int(raw_limit)
    status = request.args.get("status")
    if status is not None and status not in STATUSES:
        raise ProblemError("validation_error", f"status must be one of {', '.join(STATUSES)}.")
    with signing().uow() as uow:
        try:
            page, has_more = read_model.agreements_page(
                uow.session, workspace_id, livemode=livemode_filter(), status=status,
                starting_after=request.args.get("starting_after"), limit=limit)
        except read_model.UnknownCursor:
            raise ProblemError("validation_error",
                               "starting_after is not an agreement of this workspace.") from None
        return {"data": [agreement_json(a) for a in page], "has_more": has_more,
                "next_cursor": page[-1].id if has_more else None}


@bp.get("/v1/agreements/<agreement_id>")
def get_agreement(agreement_id: str):
    # One statement whose answer is the body (read_model): no ORM objects, no json.dumps.
    with signing().single_read() as uow:
        shown = read_model.agreement_json_text(uow.session, require_workspace(), agreement_id,
                                               livemode_filter())
    if shown is None:
        raise NotFound(agreement_id)
    return Response(shown, mimetype="application/json")


@bp.delete("/v1/agreements/<agreement_id>")
def delete_agreement(agreement_id: str):
    # A draft is deleted; an ended agreement is purged early, its receipt kept as a tombstone.
    retention.delete(require_workspace(), agreement_id, context(), signing().uow(),
                     livemode=livemode_filter())
    return "", 204


@bp.post("/v1/agreements/<agreement_id>/send")
def send_agreement(agreement_id: str):
    workspace_id = require_workspace()
    svc = signing()
    mode = livemode_filter()
    with svc.uow() as uow:
        # Signers are fixed once the draft exists, so the addresses read here are those sent to.
        emails = uow.agreements.signer_emails(workspace_id, agreement_id, mode)
    if not emails:
        raise NotFound(agreement_id)
    if mode is not False:
        # A test agreement mails only the workspace's verified addresses anyway (notify's
        # rule), so an unverified owner may try test mode with any signer.
        abuse.require_verified_or_own_address(svc.uow, svc.owner_of, workspace_id, emails)
    agreement = agreements.send(workspace_id, agreement_id, context(), svc.uow(),
                                new_workspace_signer_cap=svc.settings.new_workspace_signers_per_day,
                                livemode=mode)
    return agreement_json(agreement)


@bp.post("/v1/agreements/<agreement_id>/remind")
def remind_signers(agreement_id: str):
    agreement = agreements.remind(require_workspace(), agreement_id, context(), signing().uow(),
                                  livemode=livemode_filter())
    return agreement_json(agreement)


@bp.post("/v1/agreements/<agreement_id>/void")
def void_agreement(agreement_id: str):
    cmd = _body(VoidRequest)
    agreement = agreements.void(require_workspace(), agreement_id, cmd.reason, context(), signing().uow(),
                                livemode=livemode_filter())
    return agreement_json(agreement)


@bp.post("/v1/agreements/<agreement_id>/signers/<signer_id>/link")
def embedded_link(agreement_id: str, signer_id: str):
    url, expires_at = agreements.signer_link(require_workspace(), agreement_id, signer_id, context(),
                                             signing().uow(), livemode=livemode_filter())
    return resources.SignerLink(url=url, expires_at=expires_at).model_dump(mode="json")
