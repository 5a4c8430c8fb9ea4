"""The routes of a workspace's deletion (api.md, "Deletion and retention") and the page its
emailed link opens, ``/confirm-deletion/{token}``: a button that confirms and one that cancels.
As with every emailed link, opening the page does nothing (mail scanners fetch every URL);
only a button's POST acts."""

from html import escape

from flask import Blueprint, Response, g, request
from pydantic import BaseModel, ConfigDict, Field

from pactra_contracts.api import EmailedToken
from pactra_gateway.adapters.models import WorkspaceDeletion
from pactra_gateway.domain.errors import Conflict, Expired, NotFound
from pactra_gateway.entrypoints.account_views import _form, _page, _problem_page, links
from pactra_gateway.entrypoints.edge import actor
from pactra_gateway.entrypoints.errors import refusals
from pactra_gateway.entrypoints.views import gateway, json_body
from pactra_gateway.service_layer import deletions
from pactra_platform.problems import ProblemError, parse_json_body

bp = Blueprint("deletions", __name__)


class DeleteWorkspace(BaseModel):
    model_config = ConfigDict(extra="forbid")
    confirm: str = Field(min_length=1, max_length=200)


def _public_url() -> str:
    return gateway().settings.public_url


@bp.delete("/v1/workspace")
def delete_workspace() -> tuple[dict, int]:
    body = parse_json_body(DeleteWorkspace, json_body())
    gw = gateway()
    # NameMismatch and Unverified say what they always say (entrypoints/errors.py).
    with refusals({Conflict: "This workspace's deletion is already confirmed."}):
        deletion = deletions.request_deletion(
            g.caller.workspace_id, body.confirm, gw.uow(), links=links(), actor=actor(),
            grace_hours=gw.settings.deletion_grace_hours)
    out = deletions.status_out(deletion, _public_url())
    return {"deletion_id": out["deletion_id"], "status_url": out["status_url"],
            "status": out["status"]}, 202


@bp.get("/v1/deletions/<deletion_id>")
def deletion_status(deletion_id: str) -> tuple[dict, int, dict]:
    with refusals({NotFound: "No such deletion."}):
        deletion = deletions.get(deletion_id, gateway().uow())
    out = deletions.status_out(deletion, _public_url())
    out.pop("deletion_id")
    return out, 200, {"Cache-Control": "no-store"}


def _confirm(token: str) -> WorkspaceDeletion:
    gw = gateway()
    with refusals({NotFound: "This deletion link is unknown.",
                   Expired: "This deletion link has expired; ask again (DELETE /v1/workspace).",
                   Conflict: "This deletion was cancelled."}):
        return deletions.confirm(token, gw.uow(), grace_hours=gw.settings.deletion_grace_hours,
                                 request_id=g.request_id)


def _cancel(token: str) -> WorkspaceDeletion:
    with refusals({NotFound: "This deletion link is unknown.",
                   Conflict: "The purge has started: it can no longer be cancelled."}):
        return deletions.cancel(token, gateway().uow())


def _answer(deletion: WorkspaceDeletion) -> dict:
    out = deletions.status_out(deletion, _public_url())
    out.pop("id")
    return out


@bp.post("/v1/deletions/confirm")
def confirm_deletion() -> dict:
    return _answer(_confirm(parse_json_body(EmailedToken, json_body()).token))


@bp.post("/v1/deletions/cancel")
def cancel_deletion() -> dict:
    return _answer(_cancel(parse_json_body(EmailedToken, json_body()).token))


@bp.get("/confirm-deletion/<token>")
def confirm_deletion_page(token: str) -> Response:
    hours = gateway().settings.deletion_grace_hours
    later = "at once" if hours == 0 else f"{hours:g} hours after you confirm"
    return _page("Delete your workspace",
                 "<h1>Delete your workspace?</h1><p>Confirming stops every API key of the "
                 f"workspace now. Everything in it is erased {escape(later)}; until then this "
                 "same link cancels the deletion. Receipts you issued keep verifying: Pactra "
                 "keeps a tombstone of each (no names, emails or documents).</p>"
                 + _form("/confirm-deletion", token, "Delete my workspace")
                 + "<p></p>" + _form("/cancel-deletion", token, "Cancel the deletion"))


@bp.post("/confirm-deletion")
def confirm_deletion_form() -> Response:
    try:
        deletion = _confirm(request.form.get("token", "")[:100])
    except ProblemError as error:
        return _problem_page(error)
    return _page("Deletion confirmed", "<h1>Deletion confirmed</h1><p>Every key of the "
                 "workspace has stopped working. Follow the deletion at "
                 f"<code>{escape(deletions.status_out(deletion, _public_url())['status_url'])}</code></p>")


@bp.post("/cancel-deletion")
def cancel_deletion_form() -> Response:
    try:
        _cancel(request.form.get("token", "")[:100])
    except ProblemError as error:
        return _problem_page(error)
    return _page("Deletion cancelled", "<h1>Deletion cancelled</h1><p>Your workspace stays, "
                 "and its keys work again.</p>")
