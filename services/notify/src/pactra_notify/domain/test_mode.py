"""Where test-mode email may go (api.md, "Test mode"): only to the workspace's verified
addresses, which today is its owner's email once the owner confirmed it (``account.updated``
says so; ``workspace.created`` names the owner, unverified). Every other recipient of a
test-mode email (an invitation, a reminder, a completion) is recorded as ``suppressed`` and
sent nothing, whatever the email backend: test signers sign through embedded links
(``POST /v1/agreements/{id}/signers/{signer_id}/link``)."""

from dataclasses import dataclass
from datetime import datetime

SUPPRESSED_REASON = "test mode: not a verified address of the workspace"


@dataclass(frozen=True)
class Owner:
    """A workspace's owner as notify last heard of them: whom to tell when a webhook endpoint
    is disabled, and (once verified) where test-mode email may go."""

    workspace_id: str
    name: str
    email: str
    email_verified: bool
    updated_at: datetime


def allowed_recipients(owner: Owner | None) -> frozenset[str]:
    """The addresses test-mode email may go to (lower case); none when unknown."""
    if owner is None or not owner.email_verified:
        return frozenset()
    return frozenset({owner.email.lower()})


def may_receive(recipient: str, *, livemode: bool, owner: Owner | None) -> bool:
    """Live email goes to whoever it is for; test-mode email only to a verified address."""
    return livemode or recipient.lower() in allowed_recipients(owner)
