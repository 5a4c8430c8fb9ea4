"""The workspace's security log (api.md, "Security events"): append-only, chained by hash.

Each entry is ``{id, type, at, actor, ip, data, prev, hash}`` where
``hash = sha256(JCS(entry without hash))`` (RFC 8785) and ``prev`` is the previous entry's
hash (64 zeros for the first): rewriting or removing an entry breaks every hash after it, as in
the audit trail. The chaining rules, and ``verify_chain`` that recomputes a chain (oldest
first), are ``domain/security_log.py``; this module stores the entries.

**How to record** (from any gateway code, e.g. the quota engine's refusals)::

    from pactra_gateway.adapters import security_log
    with gw.uow() as uow:
        security_log.record(uow, workspace_id, "quota.refused", actor, ip,
                            {"metric": "agreements_sent", "limit": 50, "used": 50})
        uow.commit()

``record`` appends inside the caller's transaction: the entry exists if and only if the
caller commits. ``actor`` is a ``pactra_contracts.events.Actor`` (its kind and id are kept; its
IP is ``ip`` unless ``ip`` is given) or a plain ``{"kind", "id"}``. ``data`` must be JSON with
no floats that JCS cannot state exactly, and never a secret, an address's token or a key.
Types in use: ``api_key.created``, ``api_key.revoked``, ``auth.locked_out``,
``quota.refused``, ``email.verified``, ``email.changed``, ``recovery.key_created``,
``export.created``, ``workspace.deletion_requested``.

Concurrent appends never fork the chain: each takes a transaction-scoped advisory lock on its
workspace before reading the head, and the table's unique ``(workspace_id, prev)`` refuses a
second successor even if a writer skipped the lock.
"""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select, text

from pactra_contracts.events import Actor
from pactra_contracts.ids import new_id
from pactra_contracts.times import format_time, utcnow
from pactra_gateway.adapters.models import SecurityEvent
from pactra_gateway.domain.security_log import GENESIS, actor_json, chained
from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork

# The advisory lock's key space: (this constant, hash of the workspace id) keeps the log's
# locks apart from any other advisory lock the gateway takes.
LOCK_CLASS = 1_516_000


def record(uow: SqlAlchemyUnitOfWork, workspace_id: str, type: str,
           actor: Actor | Mapping[str, Any], ip: str | None, data: Mapping[str, Any]) -> dict:
    """Append one entry to ``workspace_id``'s log in ``uow``'s open transaction; returns it
    as the API shows it. The caller commits."""
    session = uow.session
    session.execute(text("SELECT pg_advisory_xact_lock(:class, hashtext(:workspace))"),
                    {"class": LOCK_CLASS, "workspace": workspace_id})
    head = session.execute(
        select(SecurityEvent.seq, SecurityEvent.hash)
        .where(SecurityEvent.workspace_id == workspace_id)
        .order_by(SecurityEvent.seq.desc()).limit(1)
    ).first()
    seq, prev = (head.seq + 1, head.hash) if head else (1, GENESIS)
    if ip is None and isinstance(actor, Actor):
        ip = actor.ip
    now = utcnow()
    # Kept at the millisecond the entry shows, so the stored time re-formats to what was hashed.
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)
    entry = chained({"id": new_id("sev"), "type": type, "at": format_time(now),
                     "actor": actor_json(actor), "ip": ip, "data": dict(data)}, prev)
    session.add(SecurityEvent(id=entry["id"], workspace_id=workspace_id, seq=seq, type=type, at=now,
                              actor=entry["actor"], ip=ip, data=entry["data"], prev=prev,
                              hash=entry["hash"]))
    session.flush()
    return entry


def as_json(row: SecurityEvent) -> dict:
    return {"id": row.id, "type": row.type, "at": format_time(row.at), "actor": row.actor,
            "ip": row.ip, "data": row.data, "prev": row.prev, "hash": row.hash}


def page(uow: SqlAlchemyUnitOfWork, workspace_id: str, *, limit: int,
         starting_after: str | None) -> tuple[list[dict], bool]:
    """Newest first; ``starting_after`` an entry id of this workspace (else ``LookupError``)."""
    query = select(SecurityEvent).where(SecurityEvent.workspace_id == workspace_id)
    if starting_after:
        cursor = uow.session.scalar(select(SecurityEvent.seq).where(
            SecurityEvent.id == starting_after, SecurityEvent.workspace_id == workspace_id))
        if cursor is None:
            raise LookupError(starting_after)
        query = query.where(SecurityEvent.seq < cursor)
    rows = list(uow.session.scalars(query.order_by(SecurityEvent.seq.desc()).limit(limit + 1)))
    return [as_json(row) for row in rows[:limit]], len(rows) > limit


def count(uow: SqlAlchemyUnitOfWork, workspace_id: str) -> int:
    return uow.session.scalar(select(func.count()).select_from(SecurityEvent)
                              .where(SecurityEvent.workspace_id == workspace_id)) or 0
