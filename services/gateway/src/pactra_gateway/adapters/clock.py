"""The clock that decides billing periods: the real one, plus, in tests only, a number of
seconds read from the file named by ``PACTRA_CLOCK_FILE`` (the test stack sets it; a deployment
never does): a test steps into next month by writing that file, without restarting anything or
waiting a month."""

import os
from datetime import datetime, timedelta
from pathlib import Path

from pactra_contracts.times import utcnow


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
