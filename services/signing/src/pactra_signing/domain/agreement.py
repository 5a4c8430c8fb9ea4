"""The agreement and its life cycle (api.md, "Agreements"): plain objects whose methods are the
only way its status changes, each refusing with a domain error what its status does not allow.

    draft --send--> sent --(every signer signs)--> completed
                         --(a signer declines)---> declined
                         --void------------------> voided
                         --(its time passes)-----> expired

A signer goes pending -> invited -> viewed -> signed or declined. The service layer loads the
agreement, calls one of these methods and publishes the events for what changed; SQLAlchemy
maps these classes to their tables (``adapters/orm.py``) without their knowing.
"""

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pactra_contracts.api import AgreementCreate, FieldIn, SignRequest
from pactra_contracts.events import Signature
from pactra_contracts.ids import new_id

from .errors import Conflict, Gone, Invalid, TooSoon
from .signing import FieldValues, field_values, signature_of
from .workspace import Sender

STATUSES = ("draft", "sent", "completed", "declined", "voided", "expired")
ENDED = ("completed", "declined", "voided", "expired")
# Signers the agreement waits for: invited, and maybe looked at the document.
WAITING = ("invited", "viewed")
DEFAULT_EXPIRY_DAYS = 30
EXPIRED_REASON = "The agreement expired before everyone signed."
# Reminders: at most one per signer per hour, not counting the invitation (issue 16).
REMINDER_INTERVAL = timedelta(hours=1)
# Sizes are recorded to 1/100 point; a field drawn exactly to the edge must still fit.
EDGE_TOLERANCE = 0.01


@dataclass(frozen=True)
class DocumentInfo:
    id: str
    sha256: str
    pages: int
    # Each page's (width, height) in points as displayed; None when the documents service has
    # no sizes for this document (uploaded before it recorded them): then only the page
    # number is checked.
    page_sizes: tuple[tuple[float, float], ...] | None = None


@dataclass(eq=False)
class Field:
    """A box on a page that one signer fills (its ``value`` once they signed)."""

    id: str
    signer_id: str
    position: int
    type: str
    page: int
    x: float
    y: float
    width: float
    height: float
    required: bool = True
    value: str | bool | None = None


@dataclass(eq=False)
class Signer:
    id: str
    name: str
    email: str
    order: int
    status: str = "pending"
    invited_at: datetime | None = None
    viewed_at: datetime | None = None
    signed_at: datetime | None = None
    declined_at: datetime | None = None
    decline_reason: str | None = None
    # The last reminder (not the invitation): reminders are at most one an hour per signer.
    reminded_at: datetime | None = None
    # What the email provider reported of the last email to them that came back (notify's
    # ``signer.bounced``/``signer.complained``): bounced or complained; None while nothing was.
    delivery_status: str | None = None
    consent_at: datetime | None = None
    # The token itself is never stored: its SHA-256 finds the signer, and an AES-GCM copy
    # (under a key derived from the master key) lets reminders resend the same link.
    token_hash: str | None = None
    token_sealed: bytes | None = None
    signature: dict[str, Any] | None = None
    ip: str | None = None
    user_agent: str | None = None

    @property
    def waiting(self) -> bool:
        return self.status in WAITING

    def reminder_wait(self, now: datetime) -> float:
        """Seconds until this signer may be reminded again (0: now)."""
        if self.reminded_at is None:
            return 0.0
        return max(0.0, (self.reminded_at + REMINDER_INTERVAL - now).total_seconds())

    def invite(self, now: datetime) -> None:
        if self.status != "pending":
            raise Conflict(f"Only a pending signer can be invited; this one is {self.status}.")
        self.status = "invited"
        self.invited_at = now

    def _acted(self, ip: str | None, user_agent: str | None) -> None:
        self.ip = ip
        self.user_agent = (user_agent or "")[:500] or None


@dataclass(frozen=True)
class Signed:
    """What a signature changed: the values and signature recorded, and either the
    agreement's completion or the signers whose turn it now is."""

    values: FieldValues
    signature: Signature
    completed: bool
    following: list[Signer]


@dataclass(eq=False)
class Agreement:
    id: str
    workspace_id: str
    title: str
    document_id: str
    document_sha256: str
    document_pages: int
    signing_order: str
    sender_name: str
    sender_email: str
    expires_at: datetime
    created_at: datetime
    # [[width, height], ...] in PDF points, as the documents service measured the pages; None
    # for an agreement made before sizes were known. The signer page places fields with it.
    document_page_sizes: list[list[float]] | None = None
    message: str | None = None
    status: str = "draft"
    sent_at: datetime | None = None
    completed_at: datetime | None = None
    ended_at: datetime | None = None
    outcome_reason: str | None = None
    evidence_status: str = "none"
    evidence_reason: str | None = None
    receipt_id: str | None = None
    # Grows by one with each event about the agreement (``Context.event``): the
    # ``agreement_version`` those events carry, which webhooks show as ``sequence``.
    version: int = 0
    metadata_: dict[str, Any] = field(default_factory=dict)
    # False when made with a test key (api.md, "Test mode"): seen only by test keys, free,
    # its evidence stamped and its receipt saying so.
    livemode: bool = True
    signers: list[Signer] = field(default_factory=list)
    fields: list[Field] = field(default_factory=list)

    @classmethod
    def draft(cls, cmd: AgreementCreate, workspace_id: str, document: DocumentInfo, sender: Sender,
              now: datetime, *, livemode: bool = True) -> "Agreement":
        """A new draft, its signers and fields, or ``Invalid`` for what the request gets wrong."""
        expires_at = _expiry(cmd, now)
        emails = [s.email.lower() for s in cmd.signers]
        if len(set(emails)) != len(emails):
            raise Invalid("signers", "Each signer needs a different email address.")
        agreement = cls(
            id=new_id("agr"), workspace_id=workspace_id, title=cmd.title, document_id=document.id,
            document_sha256=document.sha256, document_pages=document.pages,
            document_page_sizes=[list(size) for size in document.page_sizes] if document.page_sizes else None,
            message=cmd.message, signing_order=cmd.signing_order, sender_name=sender.name,
            sender_email=sender.email, expires_at=expires_at, created_at=now,
            metadata_=dict(cmd.metadata), livemode=livemode)
        by_email = {}
        for index, signer_in in enumerate(cmd.signers):
            signer = Signer(id=new_id("sgr"), name=signer_in.name, email=signer_in.email.lower(),
                            order=signer_in.order or index + 1)
            agreement.signers.append(signer)
            by_email[signer.email] = signer
        for index, field_in in enumerate(cmd.fields):
            owner = by_email.get(field_in.signer_email.lower())
            if owner is None:
                raise Invalid(f"fields.{index}.signer_email", "Not the email of a signer of this agreement.")
            _check_placement(index, field_in, document)
            agreement.fields.append(Field(
                id=new_id("fld"), signer_id=owner.id, position=index, type=field_in.type,
                page=field_in.page, x=field_in.x, y=field_in.y, width=field_in.width,
                height=field_in.height, required=field_in.required))
        return agreement

    @property
    def ended(self) -> bool:
        return self.status in ENDED

    def signer(self, signer_id: str) -> Signer | None:
        return next((s for s in self.signers if s.id == signer_id), None)

    def next_to_invite(self) -> list[Signer]:
        """The pending signers whose turn it is: all of them in parallel; in sequence, those of
        the lowest order once nobody is waiting."""
        pending = [s for s in self.signers if s.status == "pending"]
        if self.signing_order == "parallel" or not pending:
            return pending
        if any(s.waiting for s in self.signers):
            return []
        first = min(s.order for s in pending)
        return [s for s in pending if s.order == first]

    def overdue(self, now: datetime) -> bool:
        """Sent, and its time has passed (whether or not the expiry job got to it)."""
        return self.status == "sent" and self.expires_at <= now

    # The sender's actions.

    def to_send(self, now: datetime) -> list[Signer]:
        """Whether it can be sent now (else ``Conflict``), and whom sending it would invite;
        changes nothing, so a check of the caller's (a workspace's cap) can still refuse."""
        if self.status != "draft":
            raise Conflict(f"Only a draft can be sent; this agreement is {self.status}.")
        if self.expires_at <= now:
            raise Conflict("This agreement expired before it was sent.")
        return self.next_to_invite()

    def send(self, now: datetime) -> list[Signer]:
        """Sent; the signers to invite now (the caller invites them, token and all)."""
        invitees = self.to_send(now)
        self.status = "sent"
        self.sent_at = now
        return invitees

    def remind(self, now: datetime) -> list[Signer]:
        """The waiting signers due a reminder, marked reminded; ``TooSoon`` when every waiting
        signer was reminded within the hour."""
        if self.status != "sent":
            raise Conflict(f"Only a sent agreement can be reminded; this one is {self.status}.")
        waiting = [s for s in self.signers if s.waiting]
        due = [s for s in waiting if s.reminder_wait(now) == 0]
        if waiting and not due:
            wait = min(s.reminder_wait(now) for s in waiting)
            raise TooSoon("Each signer can be reminded at most once an hour.", math.ceil(wait))
        for signer in due:
            signer.reminded_at = now
        return due

    def void(self, reason: str, now: datetime) -> None:
        if self.status != "sent":
            raise Conflict(f"Only a sent agreement can be voided; this one is {self.status}.")
        self._end("voided", reason, now)

    def expire(self, now: datetime) -> None:
        """What time does to a sent agreement nobody finished."""
        if self.status != "sent":
            raise Conflict(f"Only a sent agreement can expire; this one is {self.status}.")
        if self.expires_at > now:
            raise Conflict("This agreement has not reached its expiry time.")
        self._end("expired", EXPIRED_REASON, now)

    def check_link(self, signer: Signer) -> None:
        """Whether the sender may have ``signer``'s link (to embed the signing page)."""
        if signer.status in ("signed", "declined") or self.ended:
            raise Gone("This signer has finished, or the agreement has ended.")
        if self.status == "draft":
            raise Conflict("Send the agreement first.")
        if signer.token_sealed is None:
            raise Conflict("This signer's turn has not come yet.")

    def check_deletable(self) -> None:
        """A draft is deleted, an ended agreement purged early; a sent one cannot be."""
        if self.status == "sent":
            raise Conflict("A sent agreement cannot be deleted; void it first.")
        if self.ended and self.evidence_status == "issuing":
            raise Conflict("Its evidence is still being issued; delete it once the receipt exists.")

    # The signer's actions.

    def can_sign(self, signer: Signer) -> bool:
        return self.status == "sent" and signer.waiting

    def view(self, signer: Signer, now: datetime) -> bool:
        """The signer's look at the page: the first while invited marks them viewed (True);
        any other look changes nothing."""
        if not (signer.status == "invited" and self.status == "sent"):
            return False
        signer.status = "viewed"
        signer.viewed_at = now
        return True

    def sign(self, signer: Signer, cmd: SignRequest, now: datetime, ip: str | None,
             user_agent: str | None) -> Signed:
        self._require_signable(signer)
        if cmd.consent is not True:
            raise Invalid("consent", "Consent to sign electronically is required.")
        values = field_values(self.fields, signer.id, cmd.fields)
        signature = signature_of(cmd)
        if signer.viewed_at is None:
            signer.viewed_at = now
        signer.status = "signed"
        signer.consent_at = now
        signer.signed_at = now
        signer.signature = signature.model_dump(mode="json")
        signer._acted(ip, user_agent)
        for box in self.fields:
            if box.id in values:
                box.value = values[box.id]
        if all(s.status == "signed" for s in self.signers):
            self._end("completed", None, now)
            return Signed(values, signature, completed=True, following=[])
        return Signed(values, signature, completed=False, following=self.next_to_invite())

    def decline(self, signer: Signer, reason: str, now: datetime, ip: str | None,
                user_agent: str | None) -> None:
        self._require_signable(signer)
        signer.status = "declined"
        signer.declined_at = now
        signer.decline_reason = reason
        signer._acted(ip, user_agent)
        self._end("declined", reason, now)

    # The evidence, as the receipts service reports it.

    def evidence_issued(self, receipt_id: str) -> None:
        self.evidence_status = "issued"
        self.evidence_reason = None
        self.receipt_id = receipt_id

    def evidence_failed(self, reason: str) -> None:
        # A failure reported after the evidence was issued (a late retry) changes nothing.
        if self.evidence_status != "issued":
            self.evidence_status = "failed"
            self.evidence_reason = reason

    def _require_signable(self, signer: Signer) -> None:
        if not self.can_sign(signer):
            raise Gone("This link can no longer be used to sign: the signer finished or the agreement ended.")

    def _end(self, outcome: str, reason: str | None, now: datetime) -> None:
        """To an ended status, its evidence asked for."""
        self.status = outcome
        self.ended_at = now
        self.outcome_reason = reason
        self.evidence_status = "issuing"
        if outcome == "completed":
            self.completed_at = now


def _expiry(cmd: AgreementCreate, now: datetime) -> datetime:
    if cmd.expires_in_days is not None and cmd.expires_at is not None:
        raise Invalid("expires_at", "Give expires_in_days or expires_at, not both.")
    if cmd.expires_at is None:
        return now + timedelta(days=cmd.expires_in_days or DEFAULT_EXPIRY_DAYS)
    try:
        expires_at = datetime.fromisoformat(cmd.expires_at.replace("Z", "+00:00"))
    except ValueError as exc:
        raise Invalid("expires_at", "expires_at must be an RFC 3339 time.") from exc
    if expires_at.tzinfo is None:
        raise Invalid("expires_at", "expires_at needs a time zone (use Z for UTC).")
    if expires_at <= now:
        raise Invalid("expires_at", "expires_at must be in the future.")
    if expires_at > now + timedelta(days=365):
        raise Invalid("expires_at", "expires_at can be at most 365 days ahead.")
    return expires_at


def _check_placement(index: int, field_in: FieldIn, document: DocumentInfo) -> None:
    """A field names a page of the document and lies within that page's box."""
    if field_in.page > document.pages:
        raise Invalid(f"fields.{index}.page", f"The document has {document.pages} page(s).")
    if not document.page_sizes:
        return
    width, height = document.page_sizes[field_in.page - 1]
    if (field_in.x + field_in.width > width + EDGE_TOLERANCE
            or field_in.y + field_in.height > height + EDGE_TOLERANCE):
        raise Invalid(f"fields.{index}", (
            f"The field does not fit on page {field_in.page}, which is {width:g} x {height:g} points "
            f"(x + width must be at most {width:g}, y + height at most {height:g})."))
