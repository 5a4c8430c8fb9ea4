"""The gateway's internal API: what other services ask the owner of the workspace settings.

Only signed calls from another service get through (the same Ed25519 signature and nonce
check as every service's API); nothing under ``/internal`` is authenticated by API key or
forwarded, so a public caller is refused like any unsigned one.

The ai service asks here, at the moment an analysis would start, whether the workspace still
allows it: the settings hold from the moment ``PATCH /v1/workspace`` answers, not from when
the ``workspace.updated`` event reaches the ai service (api.md, "AI").
"""

import logging

from flask import Blueprint, Flask, request
from sqlalchemy import select

from pactra_contracts.times import format_time
from pactra_gateway.adapters import security_log
from pactra_gateway.adapters.models import User, Workspace
from pactra_gateway.bootstrap import SERVICE, Gateway
from pactra_gateway.domain import plans
from pactra_gateway.domain.errors import QuotaExceeded, UnknownWorkspace
from pactra_gateway.entrypoints.errors import problem
from pactra_platform import internal_auth, signed_requests
from pactra_platform.nonces import nonce_store
from pactra_platform.problems import ProblemError

log = logging.getLogger(__name__)


def install(app: Flask, gw: Gateway) -> None:
    bp = Blueprint("gateway_internal", __name__, url_prefix="/internal")
    verifier = internal_auth.Verifier.for_service(gw.settings, SERVICE)
    nonces = nonce_store(gw.settings, SERVICE)

    @bp.before_request
    def require_signature() -> None:
        signed_requests.check(verifier, nonces)

    @bp.get("/workspaces/<workspace_id>/ai-settings")
    def ai_settings(workspace_id: str) -> dict:
        # A service asks about the workspace it acts for, never another one.
        if request.headers.get(internal_auth.WORKSPACE) != workspace_id:
            raise ProblemError("forbidden", "The signed workspace is not the one asked about.")
        with gw.uow() as uow:
            workspace = uow.session.get(Workspace, workspace_id)
            if workspace is None:
                raise ProblemError("not_found", f"No workspace {workspace_id}.")
            return {"workspace_id": workspace.id, "ai_enabled": workspace.ai_enabled,
                    "ai_engine": workspace.ai_engine, "ai_auto_analyze": workspace.ai_auto_analyze}

    @bp.get("/workspaces/<workspace_id>/owner")
    def owner(workspace_id: str) -> dict:
        """The owner as the gateway holds them now: signing asks at send time whether the
        address is verified (api.md: until it is, agreements go only to the owner's own
        address), so a confirmation holds from the moment it answered."""
        if request.headers.get(internal_auth.WORKSPACE) != workspace_id:
            raise ProblemError("forbidden", "The signed workspace is not the one asked about.")
        with gw.uow() as uow:
            workspace = uow.session.get(Workspace, workspace_id)
            user = uow.session.scalar(select(User).where(User.workspace_id == workspace_id,
                                                         User.role == "owner"))
            if workspace is None or user is None:
                raise ProblemError("not_found", f"No workspace {workspace_id}.")
            return {"workspace_id": workspace.id, "name": user.name, "email": user.email,
                    "email_verified": user.email_verified_at is not None,
                    "workspace_created_at": format_time(workspace.created_at)}

    @bp.post("/quotas/reserve")
    def reserve_quota() -> dict:
        """The quota decision, made by the service about to do the work, at that moment:
        ``{"source_id": ..., "items": {metric: quantity}, "checks": [metric]}`` counts the
        items now (402 quota_exceeded, counting nothing, when one would go over a blocking
        limit) and refuses when a ``checks`` metric has nothing left. The work's
        ``usage.recorded`` events, under the same source id, later confirm it (adapters/usage_counters.py)."""
        workspace_id = request.headers.get(internal_auth.WORKSPACE) or ""
        body = request.get_json(silent=True)
        if not workspace_id or not isinstance(body, dict):
            raise ProblemError("validation_error", "A signed workspace and a JSON body are needed.")
        source_id, items, checks = body.get("source_id"), body.get("items"), body.get("checks", [])
        if (not isinstance(source_id, str) or not 0 < len(source_id) <= 200
                or not isinstance(items, dict) or not isinstance(checks, list)
                or any(m not in plans.METRICS or type(q) is not int or q < 0 for m, q in items.items())
                or any(m not in plans.METRICS for m in checks)):
            raise ProblemError("validation_error", "source_id (1-200 characters), items {metric: "
                               "quantity >= 0} and checks [metric] of known metrics are needed.")
        try:
            for metric in checks:
                gw.usage.check(workspace_id, metric)
            counts = gw.usage.reserve(workspace_id, source_id, items) if items else {}
        except UnknownWorkspace as exc:
            raise problem(exc, f"No workspace {workspace_id}.") from exc
        except QuotaExceeded as exc:
            _log_refusal(workspace_id, source_id, exc)
            raise problem(exc) from exc
        return {"counts": counts}

    def _log_refusal(workspace_id: str, source_id: str, exc: QuotaExceeded) -> None:
        # The security log's ``quota.refused`` (api.md, "Security events"); a failure to log
        # must not turn a clean 402 into a 500.
        try:
            with gw.uow() as uow:
                security_log.record(uow, workspace_id, "quota.refused",
                                    {"kind": "service", "id": request.headers.get(
                                        internal_auth.CALLER, "")},
                                    request.headers.get(internal_auth.CLIENT_IP) or None,
                                    {"source_id": source_id, **exc.problem_fields()})
                uow.commit()
        except Exception:
            log.exception("could not log a quota refusal")

    app.register_blueprint(bp)
