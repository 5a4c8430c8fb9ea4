"""The transactional outbox and the inbox (events.md, "Delivery guarantees").

Outbox: an event is a row written in the same transaction as the state change that caused it;
the relay publishes it later. Inbox: a consumer records the id of each event it handled in
the same transaction as the handler's effects, so a redelivery has no second effect.
"""

from datetime import datetime, timedelta

from alembic.operations import Operations
from sqlalchemy import Column, DateTime, Integer, String, Text, delete, func, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from pactra_contracts.events import Event

from .db import Base
from .db_wakeups import notify_on_commit  # services import it from here too (transitional)


class OutboxMessage(Base):
    __tablename__ = "outbox"

    # The event id is the primary key: a row is published under that id however many
    # times the relay retries, so consumers can tell a retry from a new event.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    body: Mapped[dict] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), index=True)
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)


class InboxRecord(Base):
    __tablename__ = "inbox"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    consumer: Mapped[str] = mapped_column(String(100), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(100))
    handled_at: Mapped[datetime] = mapped_column(server_default=func.now())


# Committing a transaction that wrote to the outbox notifies this channel (in the service's own
# database), so the relay publishes at once instead of finding the row on its next poll.
OUTBOX_CHANNEL = "pactra_outbox"


def add_to_outbox(session: Session, event: Event) -> None:
    session.add(OutboxMessage(id=event.id, type=event.type, body=event.model_dump(mode="json")))
    notify_on_commit(session, OUTBOX_CHANNEL)


def claim_inbox(session: Session, event: Event, consumer: str) -> bool:
    """Record ``event`` as handled by ``consumer``; False when it already was.

    Two replicas handling the same event race on the primary key: the second insert waits for
    the first transaction and then finds the row, so exactly one of them runs the handler.
    """
    inserted = session.execute(
        _CLAIM, {"event_id": event.id, "consumer": consumer, "event_type": event.type}).first()
    return inserted is not None


# One statement built once, on the table: an ORM-enabled insert with the values inlined was
# compiled and cache-keyed afresh for every event every consumer handles.
_CLAIM = (insert(InboxRecord.__table__).on_conflict_do_nothing()
          .returning(InboxRecord.__table__.c.event_id))


def pending_count(session: Session) -> int:
    return session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.published_at.is_(None))
    ) or 0


def claim_unpublished(session: Session, limit: int) -> list[OutboxMessage]:
    """Lock the oldest unpublished rows; other relays skip them instead of publishing twice."""
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.published_at.is_(None))
            .order_by(OutboxMessage.created_at, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


def mark_failed(session: Session, message_id: str, error: str) -> None:
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(attempts=OutboxMessage.attempts + 1, last_error=error[:2000])
    )


def purge_published(session: Session, older_than: timedelta, batch: int = 1000) -> tuple[int, int]:
    """Delete published rows written more than ``older_than`` ago (in batches, so a first purge
    of a large table never holds a long lock); returns (deleted, unpublished rows that old).

    Unpublished rows are kept whatever their age: deleting one would lose its event (an
    agreement's signature, its receipt). They mean the relay has failed for that long, which
    the caller reports."""
    cutoff = func.now() - older_than
    deleted = 0
    while True:
        doomed = (select(OutboxMessage.id)
                  .where(OutboxMessage.published_at.is_not(None), OutboxMessage.created_at < cutoff)
                  .limit(batch).with_for_update(skip_locked=True).scalar_subquery())
        count = session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(doomed))).rowcount
        session.commit()
        deleted += count
        if count < batch:
            break
    stuck = session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.published_at.is_(None), OutboxMessage.created_at < cutoff)) or 0
    return deleted, stuck


def create_messaging_tables(op: Operations) -> None:
    """Called from each service's first migration: the outbox and inbox tables."""
    op.create_table(
        "outbox",
        Column("id", String(64), primary_key=True),
        Column("type", String(100), nullable=False),
        Column("body", JSONB, nullable=False),
        Column("created_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
        Column("published_at", DateTime(timezone=True), nullable=True),
        Column("attempts", Integer, nullable=False, server_default="0"),
        Column("last_error", Text, nullable=True),
    )
    op.create_index("ix_outbox_created_at", "outbox", ["created_at"])
    op.create_index(
        "ix_outbox_unpublished", "outbox", ["created_at"],
        postgresql_where="published_at IS NULL",
    )
    op.create_table(
        "inbox",
        Column("event_id", String(64), primary_key=True),
        Column("consumer", String(100), primary_key=True),
        Column("event_type", String(100), nullable=False),
        Column("handled_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
    )
