"""What can go wrong in signing, in the domain's own words. ``entrypoints/errors.py`` is the
one place these become problem documents (api.md, "Errors")."""


class SigningError(Exception):
    """Any refusal of the signing domain."""


class NotFound(SigningError):
    """No such agreement, signer or link (in this workspace and mode)."""


class Conflict(SigningError):
    """The action does not apply to the agreement in its present status."""


class Gone(SigningError):
    """The signer finished or the agreement ended: the link no longer acts."""


class Invalid(SigningError):
    """A request the rules refuse; ``field`` names the part of it at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class TooSoon(SigningError):
    """A limit on how often (reminders, a new workspace's invitations): retry after
    ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(retry_after, 1)


class EmailUnverified(SigningError):
    """An unverified owner may send only to their own address (issue 16)."""


class NotReady(SigningError):
    """The workspace's sender has not reached signing yet (its event is on the way)."""
