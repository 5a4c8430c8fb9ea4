"""The read side: the queries that only show agreements, never change them (a CQRS view, as in
"Architecture Patterns with Python", chapter 12): the list of ``GET /v1/agreements``, and the
hottest read, ``GET /v1/agreements/{id}``, for which PostgreSQL builds the agreement object of
api.md as JSON text, which the view hands on as it is (so does the workspace export).

Loading the agreement, its signers and its fields as ORM objects and presenting them in Python
was most of that request's CPU; here the database does it in one statement.
``entrypoints/presenters.agreement_json`` stays the
definition for every other answer, and a test holds the two to the same output.
"""

from collections.abc import Iterator

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from pactra_platform.exports import File

from ..domain.agreement import Agreement
from . import orm  # noqa: F401 - maps the domain's classes before the first query


def _time(column: str) -> str:
    # presenters.format_time: RFC 3339 UTC, milliseconds truncated (to_char's MS truncates).
    return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"""


_AGREEMENT = text(f"""
SELECT json_build_object(
    'id', a.id, 'title', a.title, 'status', a.status, 'document_id', a.document_id,
    'message', a.message, 'signing_order', a.signing_order,
    'sender', json_build_object('name', a.sender_name, 'email', a.sender_email),
    'expires_at', {_time("a.expires_at")}, 'created_at', {_time("a.created_at")},
    'sent_at', {_time("a.sent_at")}, 'completed_at', {_time("a.completed_at")},
    'ended_at', {_time("a.ended_at")},
    'evidence_status', a.evidence_status, 'evidence_reason', a.evidence_reason,
    'receipt_id', a.receipt_id, 'livemode', a.livemode,
    'metadata', coalesce(a.metadata, '{{}}'::jsonb),
    'signers', (
        SELECT coalesce(json_agg(json_build_object(
            'id', s.id, 'name', s.name, 'email', s.email, 'order', s."order",
            'status', s.status, 'invited_at', {_time("s.invited_at")},
            'viewed_at', {_time("s.viewed_at")}, 'signed_at', {_time("s.signed_at")},
            'declined_at', {_time("s.declined_at")},
            'delivery_status', s.delivery_status) ORDER BY s."order", s.id), '[]')
        FROM signers s WHERE s.agreement_id = a.id),
    'fields', (
        SELECT coalesce(json_agg(json_build_object(
            'id', f.id, 'signer_id', f.signer_id, 'type', f.type, 'page', f.page,
            'x', f.x, 'y', f.y, 'width', f.width, 'height', f.height,
            'required', f.required, 'value', f.value) ORDER BY f.position), '[]')
        FROM fields f WHERE f.agreement_id = a.id)
)::text
FROM agreements a
WHERE a.id = :agreement_id AND a.workspace_id = :workspace_id
""")  # noqa: S608 - only our column names are formatted in; values are bound


# The same, for a key of one mode (api.md, "Test mode"): an agreement of the other is not found.
# Made from the one statement above, whose WHERE clause (export_files reuses it) stays as it is.
_ONE = "WHERE a.id = :agreement_id AND a.workspace_id = :workspace_id"
assert _ONE in _AGREEMENT.text
_AGREEMENT_OF_MODE = text(_AGREEMENT.text.replace(_ONE, _ONE + " AND a.livemode = :livemode"))


def agreement_json_text(session: Session, workspace_id: str, agreement_id: str,
                        livemode: bool | None = None) -> str | None:
    """The agreement as api.md shows it, serialized; None when the workspace has no such one
    (of mode ``livemode``, when given: a key of the other mode is answered 404)."""
    if livemode is None:
        return session.scalar(_AGREEMENT, {"agreement_id": agreement_id, "workspace_id": workspace_id})
    return session.scalar(_AGREEMENT_OF_MODE, {"agreement_id": agreement_id,
                                               "workspace_id": workspace_id, "livemode": livemode})


# The same statement for every agreement of the workspace instead of one (one definition of
# the agreement's JSON, which a test holds to presenters.agreement_json).
_ALL = text(_AGREEMENT.text.replace(
    "SELECT json_build_object(", "SELECT a.id, json_build_object(", 1).replace(
    _ONE, "WHERE a.workspace_id = :workspace_id ORDER BY a.created_at, a.id"))


def export_files(workspace_id: str, session: Session) -> Iterator[File]:
    """The workspace export's files: ``agreements/<id>/agreement.json`` for each agreement."""
    rows = session.execute(_ALL, {"workspace_id": workspace_id},
                           execution_options={"yield_per": 200})
    for agreement_id, shown in rows:
        yield f"agreements/{agreement_id}/agreement.json", [shown.encode()]


class UnknownCursor(LookupError):
    """``starting_after`` names no agreement of the workspace (in the mode asked)."""


def agreements_page(session: Session, workspace_id: str, *, livemode: bool | None,
                    status: str | None, starting_after: str | None,
                    limit: int) -> tuple[list[Agreement], bool]:
    """A page of the workspace's agreements, newest first, after ``starting_after``; and
    whether more follow. Test and live agreements are never listed together."""
    query = select(Agreement).where(Agreement.workspace_id == workspace_id)
    if livemode is not None:
        query = query.where(Agreement.livemode == livemode)
    scope = query
    if status:
        query = query.where(Agreement.status == status)
    if starting_after:
        cursor = session.scalar(scope.where(Agreement.id == starting_after))
        if cursor is None:
            raise UnknownCursor(starting_after)
        query = query.where((Agreement.created_at < cursor.created_at)
                            | ((Agreement.created_at == cursor.created_at) & (Agreement.id < cursor.id)))
    rows = list(session.scalars(
        query.order_by(Agreement.created_at.desc(), Agreement.id.desc()).limit(limit + 1)))
    return rows[:limit], len(rows) > limit
