"""Statements: a period's counters at the plan's prices, in integer cents.

The current period's statement is ``open``: computed from the live counters on each request.
Once a period has ended (plus ``GRACE``, for usage events still on their way) its statement is
frozen ``final``: computed once and stored, by the worker's periodic job or by the first request
that asks for it, whichever comes first. Freezing is ``INSERT ... ON CONFLICT DO NOTHING`` on
(workspace, period): any number of replicas may race, one row wins, and every later reader gets
that row, never a recomputation.

No payment processor is integrated: a final statement is what one would be fed.
"""

import logging
from datetime import datetime, timedelta

from sqlalchemy import Connection, text
from sqlalchemy.dialects.postgresql import insert

from pactra_contracts.api import StatementOut, StatementSummary
from pactra_contracts.times import utcnow
from pactra_gateway.adapters.models import Statement
from pactra_gateway.adapters.usage_counters import Usage
from pactra_gateway.domain import periods
from pactra_gateway.domain.billing import line_items, number
from pactra_gateway.domain.plans import Plan

log = logging.getLogger(__name__)
GRACE = timedelta(hours=1)
KEPT = 12  # final statements listed, besides the open one


def compute(usage: Usage, conn: Connection, workspace_id: str, workspace_name: str, plan: Plan,
            period: str, status: str, issued_at: datetime | None) -> StatementOut:
    used = usage.counters(conn, workspace_id, [period])[period]
    items = line_items(plan, used)
    usage_cents = sum(item.amount_cents for item in items)
    start, end = periods.bounds(period)
    return StatementOut(
        period=period, number=number(workspace_id, period),
        total_cents=plan.monthly_fee_cents + usage_cents, currency=usage.catalogue.currency,
        status=status, workspace_id=workspace_id, workspace_name=workspace_name, plan=plan.name,
        period_start=start, period_end=end, plan_fee_cents=plan.monthly_fee_cents,
        line_items=items, usage_cents=usage_cents, issued_at=issued_at,
    )


def _workspace(conn: Connection, workspace_id: str) -> tuple[str, str, datetime]:
    row = conn.execute(text("SELECT name, plan, created_at FROM workspaces WHERE id = :w"),
                       {"w": workspace_id}).one()
    return row.name, row.plan, row.created_at


def due(usage: Usage, created_at: datetime) -> list[str]:
    """Ended periods (past the grace) that a workspace created at ``created_at`` has a
    statement for, newest first: the last ``KEPT``."""
    now = usage.clock.now()
    current = periods.period_of(now)
    found = []
    for period in periods.previous(current, KEPT):
        end = periods.bounds(period)[1]
        if end <= created_at:
            break
        if now - end >= GRACE:
            found.append(period)
    return found


def freeze(usage: Usage, conn: Connection, workspace_id: str, period: str) -> None:
    """Store the period's final statement unless it is stored already (by anyone)."""
    name, plan_name, _ = _workspace(conn, workspace_id)
    statement = compute(usage, conn, workspace_id, name, usage.catalogue.get(plan_name), period,
                        "final", utcnow())
    conn.execute(insert(Statement).values(
        workspace_id=workspace_id, period=period, number=statement.number,
        body=statement.model_dump(mode="json"), total_cents=statement.total_cents,
        created_at=statement.issued_at,
    ).on_conflict_do_nothing(index_elements=["workspace_id", "period"]))


def statements(usage: Usage, workspace_id: str) -> list[StatementOut]:
    """The open statement, then the final ones (frozen here if no one froze them yet)."""
    now = usage.clock.now()
    current = periods.period_of(now)
    with usage.engine.begin() as conn:
        name, plan_name, created_at = _workspace(conn, workspace_id)
        stored = {row.period: row.body for row in conn.execute(text(
            "SELECT period, body FROM statements WHERE workspace_id = :w"), {"w": workspace_id})}
        missing = [p for p in due(usage, created_at) if p not in stored]
        for period in missing:
            freeze(usage, conn, workspace_id, period)
        if missing:
            stored = {row.period: row.body for row in conn.execute(text(
                "SELECT period, body FROM statements WHERE workspace_id = :w"), {"w": workspace_id})}
        open_one = compute(usage, conn, workspace_id, name, usage.catalogue.get(plan_name), current,
                           "open", None)
    finals = [StatementOut.model_validate(stored[p]) for p in sorted(stored, reverse=True)]
    # A period that ended within the grace is still shown open, from its counters.
    between = [p for p in periods.previous(current, 1) if p not in stored
               and periods.bounds(p)[1] > created_at]
    with usage.engine.connect() as conn:
        pending = [compute(usage, conn, workspace_id, name, usage.catalogue.get(plan_name), p,
                           "open", None) for p in between]
    return [open_one, *pending, *finals[:KEPT]]


def summaries(found: list[StatementOut]) -> list[StatementSummary]:
    return [StatementSummary(period=s.period, number=s.number, total_cents=s.total_cents,
                             currency=s.currency, status=s.status) for s in found]


def freeze_due(usage: Usage, batch: int = 200) -> int:
    """The worker's job: freeze every ended period's statement not frozen yet. Idempotent,
    and safe with several workers (each insert is ON CONFLICT DO NOTHING; an advisory lock
    spares the others the work while one does it)."""
    now = usage.clock.now()
    current = periods.period_of(now)
    frozen = 0
    with usage.engine.begin() as conn:
        if not conn.execute(text("SELECT pg_try_advisory_xact_lock(hashtext('pactra-statements'))"))\
                .scalar():
            return 0
        for period in periods.previous(current, 2):
            end = periods.bounds(period)[1]
            if now - end < GRACE:
                continue
            rows = conn.execute(text(
                "SELECT w.id FROM workspaces w WHERE w.created_at < :end AND NOT EXISTS ("
                " SELECT 1 FROM statements s WHERE s.workspace_id = w.id AND s.period = :p) "
                "ORDER BY w.id LIMIT :n"), {"end": end, "p": period, "n": batch}).scalars().all()
            for workspace_id in rows:
                freeze(usage, conn, workspace_id, period)
                frozen += 1
    if frozen:
        log.info("statements frozen", extra={"count": frozen})
    return frozen
