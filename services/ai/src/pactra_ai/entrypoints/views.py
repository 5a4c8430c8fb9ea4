"""The ai service's public routes (forwarded by the gateway): thin over the analyses use cases."""

from flask import Blueprint, current_app

from pactra_platform import logs
from pactra_platform.web import require_workspace

from ..bootstrap import Ai
from ..domain.analysis import READY
from ..service_layer import analyses

bp = Blueprint("ai", __name__)


def _ai() -> Ai:
    return current_app.extensions["pactra_ai"]


@bp.post("/v1/documents/<document_id>/analysis")
def start_analysis(document_id: str) -> tuple[dict, int]:
    analysis = analyses.request(_ai().service, require_workspace(), document_id, logs.request_id.get())
    if analysis is None:
        # A concurrent request recorded it first; it is pending or done.
        return {"status": "pending", "document_id": document_id, "advisory": True}, 202
    return analyses.analysis_out(analysis), 200 if analysis.status == READY else 202


@bp.get("/v1/documents/<document_id>/analysis")
def get_analysis(document_id: str) -> dict:
    return analyses.analysis_out(analyses.get(_ai().service, require_workspace(), document_id))
