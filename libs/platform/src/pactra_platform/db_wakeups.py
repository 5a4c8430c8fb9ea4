"""LISTEN/NOTIFY wake-ups on a service's own database: a commit that made work wakes the loop
that does it (``notify_on_commit`` on the writing side, ``Wakeups`` on the waiting side)."""

import asyncio
import contextlib
import logging
import weakref

import psycopg
from sqlalchemy import text
from sqlalchemy.orm import Session

from .db import listen_connect_args

log = logging.getLogger(__name__)


def notify_on_commit(session: Session, channel: str, payload: str = "") -> None:
    """Wake whoever LISTENs on ``channel`` when this transaction commits (never if it rolls
    back: NOTIFY is transactional). Sent once per transaction and channel, so a unit of work
    publishing three events pays one round trip. ``payload`` tells listeners what changed."""
    key = ("pactra_notify", channel, payload)
    session.connection()  # begins the transaction, so there is one to compare with
    # The innermost transaction: a savepoint that rolls back takes its NOTIFY with it, and
    # what the outer transaction publishes afterwards must notify again.
    current = session.get_nested_transaction() or session.get_transaction()
    notified = session.info.get(key)
    if notified is None or notified() is not current:
        session.execute(text("SELECT pg_notify(:channel, :payload)"),
                        {"channel": channel, "payload": payload})
        session.info[key] = weakref.ref(current)


class Wakeups:
    """LISTENs on one channel of the service's database (:func:`notify_on_commit`): a
    commit that made work wakes the loop that does it, instead of the loop finding the work
    on its next poll. The loops still poll, slowly, as the safety net: a notification sent
    while this connection was down is lost.
    """

    def __init__(self, database_url: str, channel: str) -> None:
        self._connect_args = listen_connect_args(database_url)
        self._channel = channel
        self._connection: psycopg.AsyncConnection | None = None

    async def wait(self, seconds: float, stopping: asyncio.Event) -> bool:
        """Return on a notification (True), after ``seconds`` or when ``stopping`` is set."""
        listening = asyncio.ensure_future(self._next_notification(seconds))
        stopped = asyncio.ensure_future(stopping.wait())
        try:
            await asyncio.wait({listening, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (listening, stopped):
                task.cancel()
            await asyncio.gather(listening, stopped, return_exceptions=True)
        if stopping.is_set():
            await self.close()
            return False
        return listening.done() and not listening.cancelled() and listening.result() is True

    async def _next_notification(self, seconds: float) -> bool:
        try:
            if self._connection is None or self._connection.closed:
                self._connection = await psycopg.AsyncConnection.connect(**self._connect_args)
                # A channel is an identifier, not a parameter; ours are constants.
                await self._connection.execute(f"LISTEN {self._channel}")
            # Run each generator to its end (never break out of it): an unfinished one would
            # keep holding the connection's lock.
            notified = False
            async for _ in self._connection.notifies(timeout=seconds, stop_after=1):
                notified = True
            # Commits that landed meanwhile are covered by the batch about to run.
            async for _ in self._connection.notifies(timeout=0):
                pass
            return notified
        except Exception:  # whatever breaks here, the loop must go on (by polling)
            log.warning("notifications unavailable; polling", extra={"channel": self._channel},
                        exc_info=True)
            await self.close()
            await asyncio.sleep(seconds)
            return False

    async def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(psycopg.Error):
                await self._connection.close()
            self._connection = None
