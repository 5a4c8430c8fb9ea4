"""The ai service's public routes (forwarded by the gateway): thin over :mod:`analyses`."""

from flask import Blueprint, current_app

from pactra_platform.web import require_workspace

from . import analyses

bp = Blueprint("ai", __name__)


def _service():
    return current_app.extensions["pactra_ai"]


@bp.post("/v1/documents/<document_id>/analysis")
def start_analysis(document_id: str):
    status, body = analyses.request(_service(), require_workspace(), document_id)
    return body, status


@bp.get("/v1/documents/<document_id>/analysis")
def get_analysis(document_id: str):
    return analyses.get(_service(), require_workspace(), document_id)
