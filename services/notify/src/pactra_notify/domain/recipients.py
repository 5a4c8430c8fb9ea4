"""Whom an agreement's emails may go to.

Signing names an agreement's parties (``agreement.created``, ``signer.invited``); notify keeps
them. The ending emails go only to addresses recorded so, whatever a ``receipt.issued``
lists: a forged or mistaken event cannot send an agreement's signed PDF or a signer's link
elsewhere.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pactra_contracts.events import Recipient

from .errors import UnknownAgreement

SENDER = "sender"  # the party of an agreement's sender (a signer's is its signer id)


@dataclass(frozen=True)
class Party:
    """Someone signing named for an agreement: a signer (``party`` is its id) or its sender."""

    agreement_id: str
    party: str
    name: str
    email: str
    workspace_id: str | None

    @classmethod
    def of(cls, agreement_id: str, workspace_id: str | None, party: str, name: str,
           email: str) -> "Party":
        return cls(agreement_id, party, name, email.lower(), workspace_id)


@dataclass(frozen=True)
class Recipients:
    """The receipt's recipients notify may email, and how many it left out."""

    kept: list[Recipient]
    left_out: int
    # The receipt named another workspace than its agreement's: nobody is emailed.
    foreign: bool = False

    @property
    def sender(self) -> Recipient | None:
        return next((r for r in self.kept if r.signer_id is None), None)


def recorded_recipients(agreement_id: str, parties: Iterable[Party], workspace_id: str | None,
                        listed: Iterable[Recipient]) -> Recipients:
    """The listed recipients that signing named for this agreement and workspace, under the
    names signing gave them."""
    rows = list(parties)
    listed = list(listed)
    if not rows:
        raise UnknownAgreement(f"no parties recorded for agreement {agreement_id}")
    if any(row.workspace_id != workspace_id for row in rows):
        return Recipients([], len(listed), foreign=True)
    names = {(row.party, row.email): row.name for row in rows}
    kept = []
    for recipient in listed:
        email = recipient.email.lower()
        name = names.get((recipient.signer_id or SENDER, email))
        if name is not None:
            kept.append(Recipient(name=name, email=email, signer_id=recipient.signer_id))
    return Recipients(kept, len(listed) - len(kept))


def unique_recipients(recipients: Iterable[Recipient]) -> list[Recipient]:
    """One email per address; a sender who is also a signer gets the signer's (with a link)."""
    ordered = sorted(recipients, key=lambda r: r.signer_id is None)
    seen: set[str] = set()
    unique = []
    for recipient in ordered:
        if recipient.email.lower() not in seen:
            seen.add(recipient.email.lower())
            unique.append(recipient)
    return unique


def needs_signed_pdf(outcome: str, recipients: Iterable[Recipient],
                     statuses: Mapping[str, str]) -> bool:
    """A completed agreement's PDF is fetched only while someone is still to be emailed it
    (a retried event skips those an earlier attempt reached)."""
    if outcome != "completed":
        return False
    done = {recipient for recipient, status in statuses.items() if status != "pending"}
    return any(r.email.lower() not in done for r in recipients)


def signer_with_address(parties: Iterable[Party], email: str) -> str | None:
    """The one signer of an agreement with this address, if exactly one (for an email recorded
    before its signer was kept)."""
    signers = {p.party for p in parties if p.party != SENDER and p.email == email.lower()}
    return signers.pop() if len(signers) == 1 else None
