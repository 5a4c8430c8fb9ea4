"""``Idempotency-Key`` (api.md): replay the first response, refuse reuse and overlap; the
rules are domain/idempotency.py, this module keeps the records.

A key is claimed by inserting its record under a unique constraint on (workspace, key,
method, path): two concurrent requests race on that insert and exactly one wins; the other
sees the winner's row and answers 409 while it runs, or replays its response once stored.
A claim carries a lease, so a gateway that dies mid-request does not block the key for the
full 24 hours: after the lease, a retry takes the claim over.
"""

import json

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import sessionmaker

from pactra_contracts.times import utcnow
from pactra_gateway.adapters.models import IdempotencyRecord
from pactra_gateway.domain.idempotency import (
    COMPLETED,
    IN_PROGRESS,
    LEASE,
    REPLAYED_HEADERS,
    RETENTION,
    Claim,
    Next,
    Replay,
    next_step,
)
from pactra_platform.erasure import ColumnCipher, KeyShredded

# Stored response bodies are sealed under the workspace's data key (crypto-shredded with the
# workspace); bodies sealed under the master key before per-workspace keys still open.
PURPOSE = "idempotency"


def body_cipher(master_key: str, sessions: sessionmaker) -> ColumnCipher:
    return ColumnCipher(master_key, PURPOSE, sessions)


class IdempotencyStore:
    def __init__(self, sessions: sessionmaker, cipher: ColumnCipher) -> None:
        self.sessions = sessions
        self.cipher = cipher

    def begin(self, workspace_id: str, key: str, method: str, path: str,
              fingerprint: str) -> Claim | Replay:
        now = utcnow()
        with self.sessions() as session:
            record_id = session.scalar(
                insert(IdempotencyRecord)
                .values(workspace_id=workspace_id, key=key, method=method, path=path,
                        fingerprint=fingerprint, state=IN_PROGRESS,
                        locked_until=now + LEASE, expires_at=now + RETENTION)
                .on_conflict_do_nothing(constraint="uq_idempotency_scope")
                .returning(IdempotencyRecord.id)
            )
            if record_id is not None:
                session.commit()
                return Claim(record_id)
            record = session.scalar(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.workspace_id == workspace_id,
                    IdempotencyRecord.key == key, IdempotencyRecord.method == method,
                    IdempotencyRecord.path == path,
                ).with_for_update()
            )
            if record is None:  # deleted between our insert and select: claim afresh
                session.rollback()
                return self.begin(workspace_id, key, method, path, fingerprint)
            step = next_step(state=record.state, same_request=record.fingerprint == fingerprint,
                             expires_at=record.expires_at, locked_until=record.locked_until,
                             now=now, key=key)
            if step is Next.CLAIM_AFRESH:
                session.delete(record)
                session.commit()
                return self.begin(workspace_id, key, method, path, fingerprint)
            if step is Next.REPLAY:
                body = self.cipher.open(record.response_body or b"", self.aad(record.id))
                return Replay(record.response_status or 200, dict(record.response_headers or {}), body)
            record.locked_until = now + LEASE
            session.commit()
            return Claim(record.id)

    def complete(self, claim: Claim, status: int, headers: dict[str, str], body: bytes) -> None:
        kept = {name: headers[name] for name in REPLAYED_HEADERS if name in headers}
        with self.sessions() as session:
            record = session.get(IdempotencyRecord, claim.record_id)
            if record is None:
                return
            try:
                sealed = self.cipher.seal(record.workspace_id, body, self.aad(record.id))
            except KeyShredded:
                # The workspace was deleted while the request ran: keep nothing of it.
                session.delete(record)
                session.commit()
                return
            record.state = COMPLETED
            record.response_status = status
            record.response_headers = json.loads(json.dumps(kept))
            record.response_body = sealed
            session.commit()

    def release(self, claim: Claim) -> None:
        """Forget a claim whose request failed on our side, so the client can retry it."""
        with self.sessions() as session:
            session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == claim.record_id))
            session.commit()

    def purge_expired(self) -> int:
        with self.sessions() as session:
            result = session.execute(
                delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= utcnow())
            )
            session.commit()
            return result.rowcount or 0

    @staticmethod
    def aad(record_id: int) -> bytes:
        return f"idempotency:{record_id}".encode()
