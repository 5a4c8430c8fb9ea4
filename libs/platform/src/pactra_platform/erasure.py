"""Erasing a workspace (api.md, "Deletion and retention"): what every service shares.

- ``deleted_workspaces``: a marker per deleted workspace, the SHA-256 of its id (never the id
  itself), so that a late or replayed event about it is dropped by the consumer instead of
  bringing its data back (``pactra_platform.bus.consumer``).
- ``workspace_keys``: a data key per workspace, wrapped by the master key. Objects and
  encrypted columns are sealed under it, so destroying the row makes every copy left behind
  (a backup, a bucket snapshot) unreadable: crypto-shredding. A key is known by a random
  ``key_id``, which is what ciphertexts name; no object carries the workspace's id.
- ``forget_messages``: the outbox and inbox rows that name the workspace.
- ``report_purged``: the service's ``workspace.purged`` answer to the saga.
"""

import hashlib
import logging
import os
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from alembic.operations import Operations
from sqlalchemy import Column, DateTime, LargeBinary, String, delete, func, select, text, update
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from pactra_contracts.events import Event, WorkspaceDeletionRequested, WorkspacePurged, make_event

from .crypto import SecretBox
from .db import Base

log = logging.getLogger(__name__)

DELETION_REQUESTED = "workspace.deletion_requested"
PURGED = "workspace.purged"
# Events the relay deletes from the outbox once the broker took them (instead of keeping them
# until the outbox retention ends): they name a workspace that is being erased.
FORGETFUL_TYPES = frozenset({DELETION_REQUESTED, PURGED})
WORKSPACE_KEYS_PURPOSE = "workspace-keys"


def workspace_hash(workspace_id: str) -> str:
    return hashlib.sha256(workspace_id.encode()).hexdigest()


class DeletedWorkspace(Base):
    __tablename__ = "deleted_workspaces"

    workspace_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    deleted_at: Mapped[datetime] = mapped_column(server_default=func.now())


class WorkspaceKey(Base):
    __tablename__ = "workspace_keys"

    key_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(40), unique=True)
    # The 32-byte data key, AES-GCM under the master key's workspace-keys key, bound to key_id.
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


def create_erasure_tables(op: Operations) -> None:
    """Called from each service's migration that adds erasure."""
    op.create_table(
        "deleted_workspaces",
        Column("workspace_sha256", String(64), primary_key=True),
        Column("deleted_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
    )
    op.create_table(
        "workspace_keys",
        Column("key_id", String(40), primary_key=True),
        Column("workspace_id", String(40), nullable=False, unique=True),
        Column("wrapped", LargeBinary, nullable=False),
        Column("created_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
    )


def drop_erasure_tables(op: Operations) -> None:
    op.drop_table("workspace_keys")
    op.drop_table("deleted_workspaces")


# A plain statement rather than session.get: every event every consumer handles asks it, and
# the ORM's load by primary key cost more CPU than the query itself (nothing ever holds a
# DeletedWorkspace object in a session for .get to find first).
_IS_DELETED = text("SELECT 1 FROM deleted_workspaces WHERE workspace_sha256 = :h")


def is_deleted(session: Session, workspace_id: str) -> bool:
    return session.execute(_IS_DELETED, {"h": workspace_hash(workspace_id)}).first() is not None


def mark_deleted(session: Session, workspace_id: str) -> None:
    session.execute(insert(DeletedWorkspace).values(workspace_sha256=workspace_hash(workspace_id))
                    .on_conflict_do_nothing())


class KeyShredded(Exception):
    """The workspace key a ciphertext names no longer exists: its workspace was deleted."""


class WorkspaceKeyring:
    """Per-workspace data keys in the service's own database.

    Keys are read from the database on every use, never cached: once a workspace's row is
    deleted, no process of the service can open its data any more."""

    def __init__(self, master_key: str) -> None:
        self._box = SecretBox(master_key, WORKSPACE_KEYS_PURPOSE)

    def key_for(self, session: Session, workspace_id: str) -> tuple[str, bytes]:
        """``(key_id, key)`` of the workspace, made on first use (racing replicas agree: the
        loser's insert does nothing and it reads the winner's)."""
        row = session.scalar(select(WorkspaceKey).where(WorkspaceKey.workspace_id == workspace_id))
        if row is None:
            if is_deleted(session, workspace_id):
                # A late write for a deleted workspace must not mint it a fresh key.
                raise KeyShredded(workspace_hash(workspace_id))
            key_id = "wk_" + secrets.token_hex(16)
            raw = os.urandom(32)
            session.execute(insert(WorkspaceKey).values(
                key_id=key_id, workspace_id=workspace_id,
                wrapped=self._box.seal(raw, key_id.encode())).on_conflict_do_nothing())
            session.commit()
            row = session.scalar(select(WorkspaceKey).where(WorkspaceKey.workspace_id == workspace_id))
            assert row is not None
        return row.key_id, self._box.open(row.wrapped, row.key_id.encode())

    def key_by_id(self, session: Session, key_id: str) -> bytes:
        row = session.get(WorkspaceKey, key_id)
        if row is None:
            raise KeyShredded(key_id)
        return self._box.open(row.wrapped, row.key_id.encode())

    def box_for(self, session: Session, workspace_id: str, purpose: str) -> "WorkspaceBox":
        key_id, key = self.key_for(session, workspace_id)
        return WorkspaceBox(key_id, key, purpose)


class WorkspaceBox:
    """AES-256-GCM for a workspace's encrypted columns, under a purpose key derived from the
    workspace's data key."""

    def __init__(self, key_id: str, key: bytes, purpose: str) -> None:
        self.key_id = key_id
        self._box = SecretBox(key.hex(), purpose)

    def seal(self, plaintext: bytes, associated: bytes = b"") -> bytes:
        return self._box.seal(plaintext, associated)

    def open(self, sealed: bytes, associated: bytes = b"") -> bytes:
        return self._box.open(sealed, associated)


# An encrypted column's value under a workspace key: magic, the key id's length and the key
# id, then AES-GCM. A value without the magic was sealed under the master key directly (before
# per-workspace keys) and is still read, until ``rewrap`` seals it afresh.
COLUMN_MAGIC = b"PWK1"


class ColumnCipher:
    """Encrypted columns of a workspace's data, under that workspace's data key: once the
    workspace is deleted (its key shredded), a copy of the column left in a backup opens no
    more (``KeyShredded``). Keys are made and read in a session of their own, so that the
    first use of a workspace's key never commits the caller's unit of work half-way."""

    def __init__(self, master_key: str, purpose: str, sessions: Any) -> None:
        self._keyring = WorkspaceKeyring(master_key)
        self._legacy = SecretBox(master_key, purpose)
        self._purpose = purpose
        self._sessions = sessions

    def seal(self, workspace_id: str, plaintext: bytes, associated: bytes = b"") -> bytes:
        with self._sessions() as session:
            box = self._keyring.box_for(session, workspace_id, self._purpose)
        key_id = box.key_id.encode()
        return COLUMN_MAGIC + bytes([len(key_id)]) + key_id + box.seal(plaintext, associated)

    def open(self, sealed: bytes, associated: bytes = b"") -> bytes:
        sealed = bytes(sealed)
        parsed = _split_column(sealed)
        if parsed is None:
            return self._legacy.open(sealed, associated)
        key_id, ciphertext = parsed
        with self._sessions() as session:
            key = self._keyring.key_by_id(session, key_id)
        return WorkspaceBox(key_id, key, self._purpose).open(ciphertext, associated)

    def rewrap(self, workspace_id: str, sealed: bytes, associated: bytes = b"") -> bytes | None:
        """``sealed`` sealed again under the workspace key; None when it already is."""
        if _split_column(bytes(sealed)) is not None:
            return None
        return self.seal(workspace_id, self._legacy.open(bytes(sealed), associated), associated)


def rewrap_column(sessions: Any, cipher: ColumnCipher, column: Any, *, key: Any, workspace_id: Any,
                  associated: Callable[[Any], bytes] = lambda key: str(key).encode(),
                  join: tuple[Any, Any] | None = None, batch: int = 500) -> int:
    """``pactra-dev rewrap`` of one encrypted column: each value of ``column`` (a mapped
    attribute) still sealed under the master key is sealed again under the key of its row's
    ``workspace_id`` (a column of the row, or of the table ``join`` = (table, on) brings in),
    bound to ``associated(key)``. Rows are read in ``key`` order, ``batch`` at a time, each
    batch in a transaction of its own; the write is a compare-and-set, so a value the running
    service changed meanwhile wins. A value of a workspace being deleted is left to its purge.
    Idempotent: a value already under a workspace key stays as it is. Returns how many moved."""
    table = column.class_
    changed = 0
    after = None
    while True:
        query = select(key, workspace_id, column).where(column.is_not(None))
        if join is not None:
            query = query.join(*join)
        if after is not None:
            query = query.where(key > after)
        with sessions() as session:
            rows = session.execute(query.order_by(key).limit(batch)).all()
            for row_key, workspace, sealed in rows:
                try:
                    resealed = cipher.rewrap(workspace, sealed, associated(row_key))
                except KeyShredded:
                    continue
                if resealed is not None:
                    changed += session.execute(update(table).where(key == row_key, column == sealed)
                                               .values({column: resealed})).rowcount
            session.commit()
        if len(rows) < batch:
            return changed
        after = rows[-1][0]

def _split_column(sealed: bytes) -> tuple[str, bytes] | None:
    if not sealed.startswith(COLUMN_MAGIC) or len(sealed) < len(COLUMN_MAGIC) + 1:
        return None
    length = sealed[len(COLUMN_MAGIC)]
    start = len(COLUMN_MAGIC) + 1
    key_id = sealed[start:start + length]
    # A legacy value is nonce + ciphertext: random bytes that begin with the magic once in
    # 2^32 would not name a key id of this shape.
    if length == 0 or not key_id.startswith(b"wk_") or not key_id.isascii():
        return None
    return key_id.decode(), sealed[start + length:]


def shred_key(session: Session, workspace_id: str) -> int:
    return session.execute(delete(WorkspaceKey).where(WorkspaceKey.workspace_id == workspace_id)).rowcount


def forget_messages(session: Session, workspace_id: str) -> int:
    """Delete the outbox rows about the workspace, published or not: an unpublished one would
    carry its data to another service after that service purged it. (Inbox rows hold only an
    event id, a type and a consumer, nothing that names the workspace: they stay, and keep
    deduplicating.)"""
    outbox = session.execute(
        text("DELETE FROM outbox WHERE body->>'workspace_id' = :ws OR body->'data'->>'workspace_id' = :ws"),
        {"ws": workspace_id}).rowcount
    return outbox


def purge_request(event: Event[WorkspaceDeletionRequested]) -> WorkspaceDeletionRequested:
    return event.payload()


def report_purged(session: Session, event: Event, service: str, counts: dict[str, int]) -> None:
    """Write the ``workspace.purged`` report into the outbox (the relay deletes it once sent)."""
    from .messaging import add_to_outbox

    request = purge_request(event)
    add_to_outbox(session, make_event(
        PURGED, WorkspacePurged(workspace_id=request.workspace_id, deletion_id=request.deletion_id,
                                service=service, counts=counts),
        producer=service, workspace_id=None, correlation_id=event.correlation_id,
        causation_id=event.id))
    log.info("workspace purged", extra={"service": service, "deletion_id": request.deletion_id,
                                        "counts": counts})


# Tables the generic purge leaves to their owner: keys are shredded by ``shred_key``.
_NOT_GENERIC = frozenset({"workspace_keys"})


def workspace_tables(session: Session) -> list[str]:
    """Every table of the service's database that has a ``workspace_id`` column."""
    return list(session.scalars(text(
        "SELECT table_name FROM information_schema.columns WHERE table_schema = current_schema()"
        " AND column_name = 'workspace_id' ORDER BY table_name")))


def purge_workspace_rows(session: Session, workspace_id: str,
                         keep: frozenset[str] = frozenset()) -> dict[str, int]:
    """Delete the workspace's rows from every table that has a ``workspace_id`` column but
    ``keep`` (found at run time, so a table added later is purged without anyone having to
    list it here). Rows of child tables go with their parents (ON DELETE CASCADE). A table
    whose rows are still referenced by another's is retried after the others."""
    pending = [t for t in workspace_tables(session) if t not in _NOT_GENERIC | keep]
    counts: dict[str, int] = {}
    for _ in range(len(pending) + 1):
        blocked = []
        for table in pending:
            savepoint = session.begin_nested()
            try:
                rows = sql_table(table, sql_column("workspace_id"))
                count = session.execute(delete(rows).where(rows.c.workspace_id == workspace_id)).rowcount
                savepoint.commit()
            except IntegrityError:
                savepoint.rollback()
                blocked.append(table)
                continue
            if count:
                counts[table] = count
        if not blocked:
            return counts
        pending = blocked
    raise RuntimeError(f"cannot purge tables referenced by others: {pending}")


def begin_purge(session: Session, workspace_id: str) -> dict[str, int]:
    """The part every service's purge does first: the marker, the key, the messages."""
    mark_deleted(session, workspace_id)
    return {"workspace_keys": shred_key(session, workspace_id),
            "outbox": forget_messages(session, workspace_id)}
