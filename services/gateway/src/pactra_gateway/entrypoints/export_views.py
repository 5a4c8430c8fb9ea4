"""``/v1/exports`` (api.md, "Exports"): the gateway's own routes, and the download link's."""

from flask import Blueprint, Response, g, stream_with_context

from pactra_contracts.api import ExportCreated
from pactra_gateway.domain.errors import NotFound
from pactra_gateway.entrypoints.edge import actor, client_ip
from pactra_gateway.entrypoints.errors import refusals
from pactra_gateway.entrypoints.views import gateway, page_params
from pactra_gateway.service_layer import exports
from pactra_platform.problems import ProblemError

bp = Blueprint("exports", __name__)


@bp.post("/v1/exports")
def create_export() -> tuple[dict, int]:
    # Test mode (api.md): a test key never exports live data. The edge refuses it already
    # (routing.LIVE_KEYS_ONLY); this holds even if that table changes.
    if not getattr(g.caller, "livemode", True):
        raise ProblemError("forbidden", "A test key cannot export the workspace; use a live key.")
    gw = gateway()
    export = exports.request_export(gw.uow(), g.caller.workspace_id, actor(), client_ip(),
                                    g.get("request_id"))
    return ExportCreated(id=export.id).model_dump(mode="json"), 202


@bp.get("/v1/exports")
def list_exports() -> dict:
    gw = gateway()
    limit, after = page_params()
    try:
        found = exports.page(gw.uow(), g.caller.workspace_id, gw.settings.public_url, limit=limit,
                             starting_after=after)
    except NotFound as error:
        raise ProblemError("validation_error",
                           "starting_after is not an export of this workspace.") from error
    return found.model_dump(mode="json")


@bp.get("/v1/exports/<export_id>")
def get_export(export_id: str) -> dict:
    gw = gateway()
    with refusals({NotFound: f"No export {export_id}."}):
        return exports.get(gw.uow(), g.caller.workspace_id, export_id, gw.settings.public_url) \
            .model_dump(mode="json")


@bp.get("/v1/exports/download/<token>")
def download(token: str) -> Response:
    """Public: the token is the credential (logs show the path redacted, logs.py)."""
    gw = gateway()
    with refusals({NotFound: "This download link is unknown or has expired; read the export "
                             "again for a new one."}):
        found = exports.download(gw.sessions, gw.settings, token)
    response = Response(stream_with_context(found.chunks), mimetype="application/zip",
                        direct_passthrough=True)
    response.headers["Content-Length"] = str(found.size)
    response.headers["Content-Disposition"] = f'attachment; filename="pactra-{found.export_id}.zip"'
    response.headers["X-Content-SHA256"] = found.sha256
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
