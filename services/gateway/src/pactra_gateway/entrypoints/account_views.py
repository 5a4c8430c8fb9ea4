"""The account's routes (api.md, "Account" and "Security events") and the two pages that
emailed links open: ``/confirm-email/{token}`` and ``/recover/{token}``.

A link's page does nothing by itself: mail scanners and link previews fetch every URL in an
email, so only the page's button (a POST carrying the token) confirms an address or mints a
key. The token stays out of logs (nginx and the gateway log paths of GETs only as the page's
route) and out of the Referer (``Referrer-Policy: no-referrer``).
"""

import secrets
from html import escape

from flask import Blueprint, Response, g, request

from pactra_contracts.api import (
    AccountPatch,
    EmailedToken,
    RecoverRequest,
    SecurityEventList,
)
from pactra_contracts.events import Actor
from pactra_contracts.problems import FieldError
from pactra_gateway.adapters import security_log
from pactra_gateway.domain.errors import EmailTaken, Expired, NotFound
from pactra_gateway.entrypoints.edge import actor, client_ip
from pactra_gateway.entrypoints.errors import problem, refusals
from pactra_gateway.entrypoints.views import gateway, json_body, page_params
from pactra_gateway.service_layer import owner_account
from pactra_platform.problems import ProblemError, parse_json_body

bp = Blueprint("account", __name__)


def links() -> owner_account.Links:
    gw = gateway()
    return owner_account.Links(public_url=gw.settings.public_url, master_key=gw.settings.master_key,
                               request_id=g.request_id)


def link_actor() -> Actor:
    """Whoever follows an emailed link acts as the holder of the owner's mailbox."""
    return Actor(kind="user", id=owner_account.MAILBOX_HOLDER, ip=client_ip(),
                 user_agent=(request.user_agent.string or None))


@bp.get("/v1/account")
def get_account() -> dict:
    gw = gateway()
    return owner_account.get_account(g.caller.workspace_id, gw.uow(),
                                     max_upload_bytes=gw.settings.max_upload_bytes).model_dump(mode="json")


@bp.patch("/v1/account")
def patch_account() -> dict:
    patch = parse_json_body(AccountPatch, json_body())
    gw = gateway()
    try:
        out = owner_account.update_account(g.caller.workspace_id, patch, gw.uow(),
                                           max_upload_bytes=gw.settings.max_upload_bytes,
                                           links=links(), actor=actor())
    except EmailTaken as exc:
        raise problem(exc, "Another account uses this email address.",
                      [FieldError(field="email", message="already in use")]) from exc
    return out.model_dump(mode="json")


@bp.post("/v1/account/verify-email")
def resend_verification() -> tuple[dict, int]:
    owner_account.resend_verification(g.caller.workspace_id, gateway().uow(), links=links(),
                                      actor=actor())
    return {"status": "accepted"}, 202


def _confirm(token: str) -> tuple[str, bool]:
    with refusals({NotFound: "This confirmation link is unknown or was already used.",
                   Expired: "This confirmation link has expired; ask for a new one "
                            "(POST /v1/account/verify-email).",
                   EmailTaken: "Another account took this address meanwhile."}):
        return owner_account.confirm_email(token, gateway().uow(), links=links(), actor=link_actor())


@bp.post("/v1/account/confirm-email")
def confirm_email() -> dict:
    body = parse_json_body(EmailedToken, json_body())
    email, verified = _confirm(body.token)
    return {"email": email, "email_verified": verified}


@bp.post("/v1/account/recover")
def recover() -> tuple[dict, int]:
    body = parse_json_body(RecoverRequest, json_body())
    email = body.email.lower()
    verdict = gateway().rate_limits.check_recovery(client_ip(), email)
    if not verdict.allowed:
        raise ProblemError("rate_limited", "Too many recovery requests; retry after the window "
                           "resets.", headers=verdict.headers())
    owner_account.request_recovery(email, gateway().uow(), links=links(), actor=link_actor())
    # The same answer whether or not the address is an owner's (no account oracle).
    return {"status": "accepted"}, 202


def _recover_key(token: str):
    with refusals({NotFound: "This recovery link is unknown or was already used.",
                   Expired: "This recovery link has expired; ask for a new one."}):
        return owner_account.redeem_recovery(token, gateway().uow(), actor=link_actor())


@bp.post("/v1/account/recover/key")
def recover_key() -> tuple[dict, int, dict]:
    body = parse_json_body(EmailedToken, json_body())
    key = _recover_key(body.token)
    return key.model_dump(mode="json"), 201, {"Cache-Control": "no-store"}


@bp.get("/v1/security-events")
def security_events() -> dict:
    limit, starting_after = page_params()
    with gateway().uow() as uow:
        try:
            entries, has_more = security_log.page(uow, g.caller.workspace_id, limit=limit,
                                                  starting_after=starting_after)
        except LookupError as exc:
            raise ProblemError("validation_error",
                               "starting_after is not a security event of this workspace.") from exc
    listing = SecurityEventList.model_validate(
        {"data": entries, "has_more": has_more, "next_cursor": entries[-1]["id"] if has_more else None})
    return listing.model_dump(mode="json")


# --- the pages emailed links open ---------------------------------------------------------------

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{title} · Pactra</title>
<style nonce="{nonce}">
body {{ margin: 0; background: #f4f4f5; font-family: Helvetica, Arial, sans-serif; color: #18181b; }}
main {{ max-width: 480px; margin: 48px auto; background: #fff; border-radius: 8px; padding: 32px; }}
@media (max-width: 520px) {{ main {{ margin: 0; border-radius: 0; padding: 24px 16px; }} }}
button {{ background: #2563eb; color: #fff; border: 0; border-radius: 6px; padding: 12px 20px;
  font-size: 16px; font-weight: bold; cursor: pointer; }}
code {{ display: block; padding: 12px; background: #f4f4f5; border-radius: 6px;
  overflow-wrap: anywhere; word-break: break-all; font-size: 15px; }}
.brand {{ font-size: 13px; color: #71717a; }}
</style></head>
<body><main><p class="brand">Pactra</p>{body}</main></body></html>"""


def _page(title: str, body: str, status: int = 200) -> Response:
    nonce = secrets.token_urlsafe(16)
    html = PAGE.format(title=escape(title), nonce=nonce, body=body)
    return Response(html, status=status, headers={
        "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
        # No script at all; one nonce'd style block; the form posts only here; never framed.
        "Content-Security-Policy": (f"default-src 'none'; style-src 'nonce-{nonce}'; "
                                    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    })


def _form(action: str, token: str, label: str) -> str:
    return (f'<form method="post" action="{escape(action)}">'
            f'<input type="hidden" name="token" value="{escape(token)}">'
            f"<button type=\"submit\">{escape(label)}</button></form>")


def _problem_page(error: ProblemError) -> Response:
    problem = error.problem
    return _page(problem.title, f"<h1>This link cannot be used</h1><p>{escape(problem.detail)}</p>",
                 status=problem.status)


@bp.get("/confirm-email/<token>")
def confirm_email_page(token: str) -> Response:
    return _page("Confirm your email address",
                 "<h1>Confirm your email address</h1><p>Confirm that this address is yours: "
                 "Pactra will then use it for your account and show it to the people you send "
                 "agreements to.</p>" + _form("/confirm-email", token, "Confirm my address"))


@bp.post("/confirm-email")
def confirm_email_form() -> Response:
    try:
        email, _ = _confirm(request.form.get("token", "")[:100])
    except ProblemError as error:
        return _problem_page(error)
    return _page("Address confirmed", f"<h1>Address confirmed</h1><p>{escape(email)} is "
                 "confirmed. You can close this page.</p>")


@bp.get("/recover/<token>")
def recover_page(token: str) -> Response:
    return _page("Recover access", "<h1>Recover access to your workspace</h1><p>This creates a "
                 "new API key for your workspace and shows it once. Your other keys stay as they "
                 "are; revoke any you lost with the new one.</p>"
                 + _form("/recover", token, "Create a new API key"))


@bp.post("/recover")
def recover_form() -> Response:
    try:
        key = _recover_key(request.form.get("token", "")[:100])
    except ProblemError as error:
        return _problem_page(error)
    return _page("Your new API key", "<h1>Your new API key</h1><p>Copy it now: it is shown only "
                 f"once.</p><code>{escape(key.key)}</code><p>Its id is {escape(key.id)}.</p>",
                 status=201)
