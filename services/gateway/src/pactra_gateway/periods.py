"""Billing periods (calendar months, UTC) and the clock that decides them.

The clock is the real one, plus, in tests only, a number of seconds read from the file named by
``PACTRA_CLOCK_FILE`` (the test stack sets it; a deployment never does): a test steps into next
month by writing that file, without restarting anything or waiting a month.
"""

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pactra_contracts.times import utcnow

PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class Clock:
    def __init__(self, offset_file: str | None = None) -> None:
        self._file = Path(offset_file) if offset_file else None
        self._seen: tuple[float, float] = (-1.0, 0.0)  # (mtime, offset)

    def offset(self) -> timedelta:
        if self._file is None:
            return timedelta(0)
        try:
            mtime = os.stat(self._file).st_mtime
        except FileNotFoundError:
            return timedelta(0)
        if mtime != self._seen[0]:
            text = self._file.read_text().strip()
            self._seen = (mtime, float(text) if text else 0.0)
        return timedelta(seconds=self._seen[1])

    def now(self) -> datetime:
        return utcnow() + self.offset()

    def shift(self, moment: datetime) -> datetime:
        """A moment of the real clock (an event's occurred_at) on this clock."""
        return moment + self.offset()


def period_of(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m")


def bounds(period: str) -> tuple[datetime, datetime]:
    """[start, end) of the period."""
    match = PERIOD.match(period)
    if match is None:
        raise ValueError(f"not a period (YYYY-MM): {period!r}")
    year, month = int(match[1]), int(match[2])
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def previous(period: str, count: int) -> list[str]:
    """The ``count`` periods before ``period``, newest first."""
    start, _ = bounds(period)
    found = []
    for _ in range(count):
        start = (start - timedelta(days=1)).replace(day=1)
        found.append(period_of(start))
    return found
