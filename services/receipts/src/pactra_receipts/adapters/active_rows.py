"""Secrets with one active version at a time — receipt keys, sealing certificates: made once
at first use whatever replicas race, rotated on command, the old ones kept (retired).

Every replica takes the same transaction-scoped advisory lock before making or rotating, and
looks again once it holds it: the replica that got there first has already made the row.
"""

from collections.abc import Callable
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import sessionmaker

from pactra_contracts.times import utcnow


def _lock(session, lock_key: int) -> None:
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key})


def ensure_active(sessions: sessionmaker, model: Any, lock_key: int, make: Callable[[], Any],
                  ident: Callable[[Any], str]) -> str:
    """The active row's id, making the first row if there is none."""
    active = select(model).where(model.status == "active")
    with sessions() as session:
        row = session.scalar(active)
        if row is not None:
            return ident(row)
        _lock(session, lock_key)
        row = session.scalar(active)
        if row is None:
            row = make()
            session.add(row)
        row_id = ident(row)
        session.commit()
        return row_id


def rotate(sessions: sessionmaker, model: Any, lock_key: int, make: Callable[[], Any],
           ident: Callable[[Any], str]) -> str:
    """Retire the active row and make a new one; returns the new row's id."""
    with sessions() as session:
        _lock(session, lock_key)
        session.execute(update(model).where(model.status == "active")
                        .values(status="retired", retired_at=utcnow()))
        session.flush()
        row = make()
        session.add(row)
        row_id = ident(row)
        session.commit()
        return row_id
