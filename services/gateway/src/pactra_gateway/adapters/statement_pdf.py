"""A statement as a one-page PDF (``GET /v1/billing/statements/{period}.pdf``), drawn with
reportlab."""

import io
from datetime import timedelta

from pactra_contracts.api import StatementOut
from pactra_contracts.times import format_time

METRIC_LABELS = {
    "agreements_sent": "Agreements sent", "signers_invited": "Signers invited",
    "ai_analyses": "AI analyses", "llm_tokens": "LLM tokens", "storage_bytes": "Storage (bytes, peak)",
    "emails_sent": "Emails sent", "webhook_deliveries": "Webhook deliveries",
    "api_requests": "API requests",
}


def money(cents: int, currency: str) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100:,}.{abs(cents) % 100:02d} {currency}"


def pdf(statement: StatementOut) -> bytes:
    """A one-page, readable statement: workspace, period, number, line items, totals."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, title=f"Pactra statement {statement.number}",
                                 author="Pactra", leftMargin=48, rightMargin=48)
    styles = getSampleStyleSheet()
    currency = statement.currency
    status = "FINAL" if statement.status == "final" else "OPEN (updates until the period ends)"
    story = [
        Paragraph(f"Statement {statement.number}", styles["Title"]),
        Paragraph(f"Workspace: {_escape(statement.workspace_name)} ({statement.workspace_id})",
                  styles["Normal"]),
        Paragraph(f"Period: {statement.period} ({format_time(statement.period_start)[:10]} to "
                  f"{format_time(statement.period_end - timedelta(days=1))[:10]})", styles["Normal"]),
        Paragraph(f"Plan: {statement.plan}", styles["Normal"]),
        Paragraph(f"Status: {status}", styles["Normal"]),
        Spacer(1, 12),
    ]
    rows = [["Metric", "Quantity", "Included", "Unit", "Unit price", "Amount"]]
    for item in statement.line_items:
        rows.append([METRIC_LABELS.get(item.metric, item.metric), f"{item.quantity:,}",
                     f"{item.included:,}", f"{item.unit:,}", money(item.unit_price_cents, currency),
                     money(item.amount_cents, currency)])
    rows.append(["Plan fee", "", "", "", "", money(statement.plan_fee_cents, currency)])
    rows.append(["Usage", "", "", "", "", money(statement.usage_cents, currency)])
    rows.append(["Total", "", "", "", "", money(statement.total_cents, currency)])
    table = Table(rows, repeatRows=1)
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
        ("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold"),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
        ("LINEBELOW", (0, 0), (-1, 0), 0.75, colors.black),
        ("LINEABOVE", (0, -3), (-1, -3), 0.75, colors.black),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
    ]))
    story.append(table)
    story.append(Spacer(1, 12))
    story.append(Paragraph("Quantities above what the plan includes are billed per started unit "
                           "at the unit price. Amounts in " + currency + ".", styles["Italic"]))
    document.build(story)
    return buffer.getvalue()


def _escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

