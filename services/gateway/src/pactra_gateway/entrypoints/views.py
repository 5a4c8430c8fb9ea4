"""The gateway's own routes (accounts and keys) and the forwarding of everything else."""

import re
import time

from flask import Blueprint, Response, current_app, g, request

from pactra_contracts.api import ApiKeyCreate, ApiKeyList, SignupRequest, WorkspacePatch
from pactra_contracts.problems import FieldError
from pactra_gateway.bootstrap import Gateway
from pactra_gateway.domain import quotas
from pactra_gateway.domain.errors import EmailTaken, NotFound
from pactra_gateway.entrypoints import quota_gate, routing
from pactra_gateway.entrypoints.edge import actor, client_ip, spool_body, too_large
from pactra_gateway.entrypoints.errors import refusals
from pactra_gateway.service_layer import accounts
from pactra_platform import internal_auth
from pactra_platform.problems import ProblemError, parse_json_body

bp = Blueprint("gateway", __name__)


def gateway() -> Gateway:
    return current_app.extensions["pactra_gateway"]


def json_body() -> bytes:
    """The request body, whether the idempotency check already spooled it or not."""
    if g.get("body") is not None:
        return g.body.read()
    limit = gateway().settings.max_json_bytes
    data = request.stream.read(limit + 1)
    if len(data) > limit:
        raise too_large(limit)
    return data


def page_params() -> tuple[int, str | None]:
    raw = request.args.get("limit", "20")
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        raise ProblemError("validation_error", "limit must be an integer from 1 to 100.")
    return int(raw), request.args.get("starting_after") or None


@bp.post("/v1/signup")
def signup() -> tuple[dict, int]:
    cmd = parse_json_body(SignupRequest, json_body())
    gw = gateway()
    # Counted per client IP and per email domain (each attempt, taken or not), so neither one
    # source nor one domain can mass-produce workspaces.
    verdict = gw.rate_limits.check_signup(client_ip(), cmd.email.rsplit("@", 1)[-1].lower())
    if not verdict.allowed:
        raise ProblemError("rate_limited", "Too many signups from this address or for this email "
                           "domain; retry after the window resets.", headers=verdict.headers())
    # Imported here: account_views imports this module (its helpers).
    from pactra_gateway.entrypoints.account_views import links
    with refusals({EmailTaken: "An account with this email already exists."}):
        out = accounts.signup(cmd, gw.uow(), max_upload_bytes=gw.settings.max_upload_bytes,
                              request_id=g.request_id, actor=actor(), links=links(),
                              plan=gw.settings.default_plan)
    return out.model_dump(mode="json"), 201


@bp.get("/v1/workspace")
def get_workspace() -> dict:
    gw = gateway()
    return accounts.get_workspace(g.caller.workspace_id, gw.uow(),
                                  max_upload_bytes=gw.settings.max_upload_bytes).model_dump(mode="json")


@bp.patch("/v1/workspace")
def patch_workspace() -> dict:
    patch = parse_json_body(WorkspacePatch, json_body())
    gw = gateway()
    if patch.ai_engine == "llm" and not gw.settings.ai_base_url:
        raise ProblemError("validation_error", "This platform has no LLM provider configured.",
                           [FieldError(field="ai_engine", message="only \"offline\" is available")])
    minimum = gw.settings.min_retention_days
    if patch.retention_days is not None and patch.retention_days < minimum:
        # The operator's floor (PACTRA_MIN_RETENTION_DAYS), e.g. a legal minimum for evidence.
        raise ProblemError("validation_error", f"retention_days may not be below {minimum} on this platform.",
                           [FieldError(field="retention_days", message=f"must be at least {minimum}")])
    out = accounts.update_workspace(
        g.caller.workspace_id, patch, gw.uow(), max_upload_bytes=gw.settings.max_upload_bytes,
        request_id=g.request_id, actor=actor(),
    )
    return out.model_dump(mode="json")


@bp.post("/v1/api-keys")
def create_api_key() -> tuple[dict, int]:
    cmd = parse_json_body(ApiKeyCreate, json_body())
    if cmd.mode == "live" and not g.caller.livemode:
        raise ProblemError("forbidden", "A test key cannot create live keys; use a live key.")
    key = accounts.create_api_key(g.caller.workspace_id, cmd.name, gateway().uow(), actor=actor(),
                                  mode=cmd.mode)
    return key.model_dump(mode="json"), 201


@bp.get("/v1/api-keys")
def list_api_keys() -> dict:
    limit, starting_after = page_params()
    try:
        keys, has_more = accounts.list_api_keys(g.caller.workspace_id, gateway().uow(),
                                                limit=limit, starting_after=starting_after,
                                                test_only=not g.caller.livemode)
    except NotFound as exc:
        raise ProblemError("validation_error", "starting_after is not a key of this workspace.") from exc
    page = ApiKeyList(data=keys, has_more=has_more, next_cursor=keys[-1].id if has_more else None)
    return page.model_dump(mode="json")


@bp.delete("/v1/api-keys/<key_id>")
def revoke_api_key(key_id: str) -> tuple[str, int]:
    with refusals({NotFound: f"No API key {key_id}."}):
        accounts.revoke_api_key(g.caller.workspace_id, key_id, gateway().uow(), actor=actor(),
                                test_only=not g.caller.livemode)
    return "", 204


@bp.route("/v1/<path:_rest>", methods=["GET", "POST", "PATCH", "DELETE"])
@bp.route("/s/<path:_rest>", methods=["GET", "POST"])
@bp.route("/verify", methods=["GET"], defaults={"_rest": ""})
def forward(_rest: str) -> Response:
    service = routing.owner_of(request.path)
    if service is None:
        raise ProblemError("not_found", f"No route {request.method} {request.path}.")
    caller = g.get("caller")
    identity = {
        internal_auth.WORKSPACE: caller.workspace_id if caller else "",
        internal_auth.API_KEY_ID: caller.api_key_id if caller else "",
        internal_auth.REQUEST_ID: g.request_id,
        internal_auth.CALLER: "gateway",
        internal_auth.CLIENT_IP: client_ip(),
        internal_auth.USER_AGENT: (request.user_agent.string or "")[:500],
        # Signed with the rest: a service scopes what it lists, reads and makes to the key's
        # mode. Public routes (no key) carry none and are scoped by their own credential.
        internal_auth.LIVEMODE: ("true" if caller.livemode else "false") if caller else "",
    }
    if g.get("body") is None and request.content_length:
        spool_body(gateway())
    # Quotas are decided here, before the service does any work (402), and given back if it
    # did not do it (entrypoints/quota_gate.py, domain/quotas.py).
    deciding = time.perf_counter()
    reservation = quota_gate.before_forward(gateway(), caller, g.request_id)
    decided_ms = (time.perf_counter() - deciding) * 1000
    buffer = g.get("claim") is not None or quotas.wants_answer(request.method, request.path)
    if g.get("body") is None:
        response = gateway().forwarder.forward(service, identity, None, buffer_response=buffer)
    else:
        response = gateway().forwarder.forward(service, identity, g.body, g.body_sha256,
                                               g.body_size, buffer_response=buffer)
    quota_gate.after_forward(gateway(), reservation, caller, response)
    if reservation is not None:
        # What the decision took, for the client to see (and make bench to measure in the
        # running stack): a standard header, no more than the duration.
        response.headers["Server-Timing"] = f'quota;dur={decided_ms:.3f};desc="quota decision"'
    return response


# Signing tokens are 256-bit secrets, but an address that keeps presenting unknown ones is
# guessing: after PACTRA_TOKEN_LOCKOUT misses (the signing service's 404s), every /s/* from it
# answers 429 until the window ends. A page number past the document's end is no guess.
SIGNER_PATH = re.compile(r"^/s/[^/]+(/(info|document|sign|decline|receipt|audit|signed\.pdf))?$")


@bp.before_request
def refuse_locked_out_signer_address() -> None:
    if request.path.startswith("/s/"):
        verdict = gateway().rate_limits.peek_unknown_tokens(client_ip())
        if not verdict.allowed:
            raise ProblemError("rate_limited", "Too many unknown signing links from this address; "
                               "retry after the window resets.", headers=verdict.headers())


@bp.after_request
def count_unknown_signing_tokens(response: Response) -> Response:
    if response.status_code == 404 and SIGNER_PATH.match(request.path):
        gateway().rate_limits.count_unknown_token(client_ip())
    return response
