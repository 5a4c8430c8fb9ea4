"""The ai service's public routes (forwarded by the gateway): thin over the analyses use cases."""

from typing import Any

from flask import Blueprint, current_app

from pactra_contracts.resources import AnalysisRequested
from pactra_platform import logs
from pactra_platform.web import require_workspace

from ..bootstrap import Ai
from ..domain.analysis import READY
from ..service_layer import analyses

bp = Blueprint("ai", __name__)


def _ai() -> Ai:
    return current_app.extensions["pactra_ai"]


@bp.post("/v1/documents/<document_id>/analysis")
def start_analysis(document_id: str) -> tuple[dict[str, Any], int]:
    analysis = analyses.request(_ai().service, require_workspace(), document_id, logs.request_id.get())
    if analysis is None:
        # A concurrent request recorded it first; it is pending or done.
        requested = AnalysisRequested(status="pending", document_id=document_id, advisory=True)
        return requested.model_dump(mode="json"), 202
    return analyses.analysis_out(analysis).model_dump(mode="json"), 200 if analysis.status == READY else 202


@bp.get("/v1/documents/<document_id>/analysis")
def get_analysis(document_id: str) -> dict[str, Any]:
    analysis = analyses.get(_ai().service, require_workspace(), document_id)
    return analyses.analysis_out(analysis).model_dump(mode="json")
