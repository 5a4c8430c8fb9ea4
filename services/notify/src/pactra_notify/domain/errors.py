"""What notify refuses, as exceptions of its own: ``entrypoints/errors.py`` is the one place
they become problem documents; the worker lets the retryable ones fail the event."""


class NotifyError(Exception):
    """A refusal of notify's rules; the message is written for the API's caller."""


class NotFound(NotifyError):
    """No such object in the caller's workspace (the message names which)."""


class EndpointLimitReached(NotifyError):
    """A workspace may hold only so many webhook endpoints (409)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"A workspace has at most {limit} webhook endpoints; delete one first.")


class DeliveryInFlight(NotifyError):
    """A delivery is replayed while an attempt of it is under way (409)."""

    def __init__(self) -> None:
        super().__init__("This delivery is being attempted right now.")


class BadCursor(NotifyError):
    """``starting_after`` names nothing of the listed collection (422)."""


class ReplayedReport(NotifyError):
    """A provider's report presented again under a message id already acted on (400)."""

    def __init__(self) -> None:
        super().__init__("This message (svix-id) was already received.")


class RefusedUrl(NotifyError, ValueError):
    """The URL may never be, or may not now be, delivered to; the message says why."""


class UnknownAgreement(RuntimeError):
    """A receipt for an agreement whose parties notify has not recorded (yet): retried (its
    ``agreement.created`` may still be queued), then dead-lettered, never emailed blindly."""
