"""The gateway's internal API: what other services ask the owner of the workspace settings.

Only signed calls from another service get through (the same Ed25519 signature and nonce
check as every service's API); nothing under ``/internal`` is authenticated by API key or
forwarded, so a public caller is refused like any unsigned one.

The ai service asks here, at the moment an analysis would start, whether the workspace still
allows it: the settings hold from the moment ``PATCH /v1/workspace`` answers, not from when
the ``workspace.updated`` event reaches the ai service (api.md, "AI").
"""

from flask import Blueprint, Flask, request

from pactra_platform import internal_auth, signed_requests
from pactra_platform.nonces import nonce_store
from pactra_platform.problems import ProblemError

from .bootstrap import SERVICE, Gateway
from .models import Workspace


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

    app.register_blueprint(bp)
