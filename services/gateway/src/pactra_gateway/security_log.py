"""The workspace's security log (api.md, "Security events"): append-only, chained by hash.

Each entry is ``{id, type, at, actor, ip, data, prev, hash}`` where
``hash = sha256(JCS(entry without hash))`` (RFC 8785) and ``prev`` is the previous entry's
hash (64 zeros for the first): rewriting or removing an entry breaks every hash after it, as in
the audit trail. :func:`verify_chain` recomputes a chain (oldest first).

**How to record** (from any gateway code, e.g. the quota engine's refusals)::

    from pactra_gateway import security_log
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

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import rfc8785
from sqlalchemy import func, select, text

from pactra_contracts.events import Actor
from pactra_contracts.ids import new_id
from pactra_contracts.times import format_time, utcnow
from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork

from .models import SecurityEvent

GENESIS = "0" * 64
# The advisory lock's key space: (this constant, hash of the workspace id) keeps the log's
# locks apart from any other advisory lock the gateway takes.
LOCK_CLASS = 1_516_000


def entry_hash(entry: Mapping[str, Any]) -> str:
    """sha256 hex of the RFC 8785 form of ``entry`` without its ``hash`` member."""
    unhashed = {name: value for name, value in entry.items() if name != "hash"}
    return hashlib.sha256(rfc8785.dumps(unhashed)).hexdigest()


def _actor_json(actor: Actor | Mapping[str, Any]) -> dict[str, str]:
    if isinstance(actor, Actor):
        return {"kind": actor.kind, "id": actor.id}
    return {"kind": str(actor["kind"]), "id": str(actor["id"])}


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
    entry = {"id": new_id("sev"), "type": type, "at": format_time(now), "actor": _actor_json(actor),
             "ip": ip, "data": dict(data), "prev": prev}
    entry["hash"] = entry_hash(entry)
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


def verify_chain(entries_oldest_first: Iterable[Mapping[str, Any]]) -> list[str]:
    """What is wrong with a chain, entry by entry; empty when every hash and link holds."""
    problems = []
    prev = GENESIS
    for index, entry in enumerate(entries_oldest_first):
        if entry.get("prev") != prev:
            problems.append(f"entry {index} ({entry.get('id')}): prev does not match the entry before")
        if entry_hash(entry) != entry.get("hash"):
            problems.append(f"entry {index} ({entry.get('id')}): hash does not match its content")
        prev = str(entry.get("hash"))
    return problems
