"""Times as api.md writes them: RFC 3339 UTC with ``Z`` and milliseconds."""

from datetime import UTC, datetime
from typing import Annotated

from pydantic import PlainSerializer


def utcnow() -> datetime:
    return datetime.now(UTC)


def format_time(value: datetime) -> str:
    """``2026-11-28T12:00:00.123Z`` — the only time format on the wire and in evidence."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


UtcTime = Annotated[datetime, PlainSerializer(format_time, return_type=str, when_used="json")]
