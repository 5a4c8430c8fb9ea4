"""The gateway's domain errors: what a use case refuses, named once. ``entrypoints/errors.py``
is the one place they become problem documents."""

from datetime import datetime

from pactra_contracts.times import format_time


class GatewayError(Exception):
    """A refusal of the gateway's rules (not a failure of its machinery)."""


class NotFound(GatewayError):
    """No such thing here (or not this workspace's): a workspace, a link, a deletion, an export."""


class UnknownWorkspace(NotFound):
    pass


class Expired(GatewayError):
    """A mailed link (confirmation, recovery, deletion) used after its time."""


class Conflict(GatewayError):
    """The thing is in a state that does not allow this (a deletion already confirmed or
    cancelled, the purge started)."""


class EmailTaken(Conflict):
    pass


class NameMismatch(GatewayError):
    """A workspace's deletion must be confirmed with its exact name."""


class Unverified(GatewayError):
    """The owner's address is not verified, and the action mails it a link."""


class KeyReused(GatewayError):
    """An Idempotency-Key sent again with a different request."""


class InProgress(GatewayError):
    """An Idempotency-Key whose first request is still running."""


class QuotaExceeded(GatewayError):
    def __init__(self, metric: str, limit: int, used: int, resets_at: datetime) -> None:
        super().__init__(metric, limit, used, resets_at)
        self.metric, self.limit, self.used, self.resets_at = metric, limit, used, resets_at

    def problem_fields(self) -> dict[str, object]:
        return {"metric": self.metric, "limit": self.limit, "used": self.used,
                "resets_at": format_time(self.resets_at)}

    def explain(self) -> str:
        return (f"This workspace's plan allows {self.limit} {self.metric.replace('_', ' ')} a month "
                f"and {self.used} are used; the count resets at {format_time(self.resets_at)}.")
