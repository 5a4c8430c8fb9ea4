"""Billing periods: calendar months, UTC, named ``YYYY-MM``. Which period it is now is the
clock's to say (adapters/clock.py)."""

import re
from datetime import UTC, datetime, timedelta

PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


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
