"""The outbox relay: publishes each service's outbox rows, and purges those long published."""

import asyncio
import logging
from datetime import timedelta
from typing import Any

from faststream.rabbit import RabbitBroker
from sqlalchemy.orm import sessionmaker

from pactra_contracts.events import Event
from pactra_contracts.times import utcnow

from ..db_wakeups import Wakeups
from ..erasure import FORGETFUL_TYPES
from ..messaging import claim_unpublished, mark_failed, purge_published
from ..settings import Settings
from .scheduled import pause
from .topology import Topology

log = logging.getLogger(__name__)


class OutboxRelay:
    """Publishes the outbox: persistent messages, publisher confirms, rows marked after confirm.

    The batch runs in a worker thread inside one transaction holding row locks (so a second
    relay replica skips those rows); each publish is awaited on the event loop. A crash after
    the broker confirmed but before the commit republishes the same event id, which inboxes
    discard: at-least-once, never under a new id. Between batches it sleeps until a commit
    notifies it (``wakeups``) or ``poll_seconds`` pass.
    """

    def __init__(self, broker: RabbitBroker, topology: Topology, sessions: sessionmaker,
                 poll_seconds: float, batch: int = 100, wakeups: Wakeups | None = None) -> None:
        self.broker = broker
        self.topology = topology
        self.sessions = sessions
        self.poll_seconds = poll_seconds
        self.batch = batch
        self.wakeups = wakeups
        self._stopping = asyncio.Event()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task:
            await self._task

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            try:
                published = await asyncio.to_thread(self.publish_batch, loop)
            except Exception:  # the relay must outlive any one bad round
                log.exception("outbox relay round failed")
                published = 0
            if published < self.batch:
                if self.wakeups is None:
                    await pause(self._stopping, self.poll_seconds)
                else:
                    await self.wakeups.wait(self.poll_seconds, self._stopping)
        if self.wakeups is not None:
            await self.wakeups.close()

    def publish_batch(self, loop: asyncio.AbstractEventLoop) -> int:
        with self.sessions() as session:
            rows = claim_unpublished(session, self.batch)
            if not rows:
                return 0
            # The batch's publishes are in flight together and their confirms awaited
            # together: one broker round trip for the batch, not one per event. Consumers
            # never rely on order across events (events.md), so a failed one retried later
            # may arrive after those published with it.
            outcomes = asyncio.run_coroutine_threadsafe(
                self._publish_all([row.body for row in rows]), loop).result(timeout=60)
            confirmed_at = utcnow()
            failed = []
            for row, outcome in zip(rows, outcomes, strict=True):
                if outcome is None and row.type in FORGETFUL_TYPES:
                    # It names a workspace being erased: gone once the broker has it.
                    session.delete(row)
                elif outcome is None:
                    row.published_at = confirmed_at
                else:
                    failed.append((row.id, outcome))
            session.commit()
        if failed:
            with self.sessions() as session:
                for row_id, exc in failed:
                    mark_failed(session, row_id, repr(exc))
                session.commit()
            log.warning("publish failed; will retry", extra={"event_ids": [i for i, _ in failed]})
            return 0  # a broker in trouble: wait before the next round
        return len(rows)

    async def _publish_all(self, bodies: list[dict]) -> list[BaseException | None]:
        outcomes = await asyncio.gather(*(self._publish(body) for body in bodies),
                                        return_exceptions=True)
        return [outcome if isinstance(outcome, BaseException) else None for outcome in outcomes]

    async def _publish(self, body: dict) -> None:
        event: Event[Any] = Event.model_validate(body)
        await self.broker.publish(
            event.to_json(),
            exchange=self.topology.exchange_spec(),
            routing_key=event.type,
            persist=True,
            mandatory=True,
            message_id=event.id,
            correlation_id=event.correlation_id,
            content_type="application/json",
            message_type=event.type,
            timeout=10,
        )


# How often a worker with a relay deletes its published outbox rows older than
# ``outbox_retention_days`` (also once at start).
OUTBOX_PURGE_SECONDS = 3600.0


def purge_outbox(sessions: sessionmaker, settings: Settings, service: str) -> int:
    """The relay's housekeeping: published rows past the retention window are deleted, so
    the events they hold (signature images, field values) are not kept beyond it."""
    with sessions() as session:
        deleted, stuck = purge_published(session, timedelta(days=settings.outbox_retention_days))
    if stuck:
        log.error("outbox rows unpublished for longer than the retention window are kept: "
                  "the relay cannot publish", extra={"service": service, "rows": stuck})
    if deleted:
        log.info("published outbox rows purged", extra={"service": service, "rows": deleted})
    return deleted
