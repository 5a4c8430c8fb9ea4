"""What the use cases need from outside, as protocols: the adapters implement them, the unit
tests fake them, and ``bootstrap`` hands the real ones in."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ..domain.emails import Email, SignedPdf


class PermanentEmailError(Exception):
    """The provider refused this email for good (say, a malformed address): retrying the
    same request cannot help, so the delivery is marked failed instead of retried."""


class EmailBackend(Protocol):
    def send(self, email: Email, *, idempotency_key: str) -> str:
        """Send ``email``; returns the provider's message id. Raises on failure:
        :class:`PermanentEmailError` when retrying cannot help, anything else when it may."""
        ...

    def close(self) -> None:
        """Let go of any connection kept open for the next email."""
        ...


class LinkOpener(Protocol):
    """Opens the links other services seal into their events (bound to whom they are for)."""

    def signing_link(self, sealed: str, signer_id: str) -> str: ...

    def account_link(self, sealed: str, user_id: str) -> str: ...


class Peers(Protocol):
    """What notify asks of other services, as itself and for the event's workspace."""

    def signed_pdf(self, workspace_id: str | None, agreement_id: str) -> SignedPdf:
        """Receipts' signed PDF (without content when too large to attach); raises when it has
        none yet, so that the event is retried."""
        ...

    def agreement(self, workspace_id: str, agreement_id: str) -> Mapping[str, Any] | None:
        """Signing's public agreement object; None when it is gone; raises when signing does
        not answer."""
        ...


class SecretSealer(Protocol):
    """Seals a webhook endpoint's signing secret under its workspace's key."""

    def seal(self, workspace_id: str, endpoint_id: str, secret: str) -> bytes: ...


@dataclass(frozen=True)
class Mail:
    """What the email handlers use besides the unit of work."""

    backend: EmailBackend
    links: LinkOpener
    peers: Peers
    public_url: str
