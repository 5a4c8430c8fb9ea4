"""``GET /v1/usage`` and the statements (api.md, "Usage and billing"): the gateway's own
routes, read-only, never refused by a quota."""

from flask import Blueprint, Response, current_app, g

from pactra_contracts.api import StatementList, StatementOut, UsageOut
from pactra_gateway.adapters import statement_pdf
from pactra_gateway.bootstrap import Gateway
from pactra_gateway.domain import periods
from pactra_gateway.service_layer import billing
from pactra_platform.problems import ProblemError

bp = Blueprint("gateway_billing", __name__)


def _gateway() -> Gateway:
    return current_app.extensions["pactra_gateway"]


@bp.get("/v1/usage")
def usage() -> dict:
    report = _gateway().usage.report(g.caller.workspace_id)
    return UsageOut.model_validate(report).model_dump(mode="json")


@bp.get("/v1/billing/statements")
def list_statements() -> dict:
    found = billing.statements(_gateway().usage, g.caller.workspace_id)
    return StatementList(data=billing.summaries(found)).model_dump(mode="json")


def _statement(period: str) -> StatementOut:
    if not periods.PERIOD.match(period):
        raise ProblemError("not_found", f"No statement {period}: periods are named YYYY-MM.")
    for statement in billing.statements(_gateway().usage, g.caller.workspace_id):
        if statement.period == period:
            return statement
    raise ProblemError("not_found", f"No statement for {period} (the open period and the last "
                       f"{billing.KEPT} ended ones since the workspace was created are kept).")


@bp.get("/v1/billing/statements/<period>")
def get_statement(period: str) -> dict:
    return _statement(period).model_dump(mode="json")


@bp.get("/v1/billing/statements/<period>.pdf")
def get_statement_pdf(period: str) -> Response:
    statement = _statement(period)
    return Response(statement_pdf.pdf(statement), mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{statement.number}.pdf"'})
