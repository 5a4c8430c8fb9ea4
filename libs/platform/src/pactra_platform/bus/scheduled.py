"""Scheduled jobs: housekeeping a worker runs every so often, or at once when a commit wakes it."""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from ..db_wakeups import Wakeups

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    """A housekeeping job the worker runs every ``seconds`` (in a thread; errors logged), and
    at once when a commit notifies its ``wake_on`` channel."""

    name: str
    seconds: float
    run: Callable[[], object]
    wake_on: str | None = None


async def run_every(job: Periodic, stopping: asyncio.Event, database_url: str) -> None:
    wakeups = Wakeups(database_url, job.wake_on) if job.wake_on else None
    try:
        while not stopping.is_set():
            try:
                await asyncio.to_thread(job.run)
            except Exception:
                log.exception("periodic job failed", extra={"job": job.name})
            if wakeups is None:
                await pause(stopping, job.seconds)
            else:
                await wakeups.wait(job.seconds, stopping)
    finally:
        if wakeups is not None:
            await wakeups.close()


async def pause(stopping: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds``, or less if ``stopping`` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)
