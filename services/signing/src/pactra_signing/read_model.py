"""The read side for the hottest read, ``GET /v1/agreements/{id}``: PostgreSQL builds the
agreement object of api.md as JSON text, which the view hands on as it is.

Loading the agreement, its signers and its fields as ORM objects and presenting them in Python
was most of that request's CPU; here the database does it in one statement (a CQRS view, as
in "Architecture Patterns with Python", chapter 12). ``presenters.agreement_json`` stays the
definition for every other answer, and a test holds the two to the same output.
"""

from sqlalchemy import text
from sqlalchemy.orm import Session


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
# Made from the one statement above, whose WHERE clause (exports.py reuses it) stays as it is.
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
