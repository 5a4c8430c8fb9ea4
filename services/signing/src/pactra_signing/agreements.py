"""What a sender does with an agreement: create, send, remind, void, embed a link (deleting
one: retention.py); and what time does to it (expiry). Plain functions over a unit of work: no
Flask, no broker."""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from pactra_contracts.api import AgreementCreate, FieldIn
from pactra_contracts.events import (
    Actor,
    AgreementCreated,
    AgreementEnded,
    AgreementSent,
    FieldPlacement,
    Person,
    SealedLink,
    SignerInvited,
    SignerSummary,
    UsageRecorded,
    make_event,
)
from pactra_contracts.ids import new_id
from pactra_contracts.times import utcnow
from pactra_platform.problems import ProblemError
from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork

from . import abuse, tokens
from .links import seal_link
from .models import Agreement, Field, Sender, Signer

DEFAULT_EXPIRY_DAYS = 30


class NotFound(Exception):
    pass


class Conflict(Exception):
    pass


class Gone(Exception):
    pass


class Invalid(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Context:
    """Who acts, and the settings the actions need."""

    master_key: str
    public_url: str
    vault: tokens.TokenVault
    request_id: str | None
    actor: Actor

    def event(self, event_type, data, agreement: Agreement, **extra):
        # Every event about an agreement is a change of it: its version grows here, in the
        # transaction (and under the row lock) that publishes the event, so versions are in
        # the order the changes committed.
        agreement.version = (agreement.version or 0) + 1
        if "agreement_version" in type(data).model_fields:
            data = data.model_copy(update={"agreement_version": agreement.version})
        if "livemode" in type(data).model_fields:
            # Receipts and notify learn a test agreement's mode from its events.
            data = data.model_copy(update={"livemode": agreement.livemode})
        return make_event(event_type, data, producer="signing", workspace_id=agreement.workspace_id,
                          correlation_id=self.request_id, actor=extra.get("actor", self.actor))

    def link(self, token: str) -> str:
        return f"{self.public_url.rstrip('/')}/s/{token}"


@dataclass(frozen=True)
class DocumentInfo:
    id: str
    sha256: str
    pages: int
    # Each page's (width, height) in points as displayed; None when the documents service has
    # no sizes for this document (uploaded before it recorded them): then only the page
    # number is checked.
    page_sizes: tuple[tuple[float, float], ...] | None = None


# Sizes are recorded to 1/100 point; a field drawn exactly to the edge must still fit.
EDGE_TOLERANCE = 0.01


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


def load(uow: SqlAlchemyUnitOfWork, workspace_id: str, agreement_id: str, *, lock: bool = False,
         livemode: bool | None = None) -> Agreement:
    """The workspace's agreement; with ``livemode``, only one of that mode (a test key's
    request never reaches a live agreement, nor a live key's a test one: 404 either way)."""
    query = select(Agreement).where(Agreement.id == agreement_id, Agreement.workspace_id == workspace_id)
    if livemode is not None:
        query = query.where(Agreement.livemode == livemode)
    agreement = uow.session.scalar(query.with_for_update() if lock else query)
    if agreement is None:
        raise NotFound(agreement_id)
    return agreement


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


def create(cmd: AgreementCreate, workspace_id: str, document: DocumentInfo, sender: Sender,
           ctx: Context, uow: SqlAlchemyUnitOfWork, *, livemode: bool = True) -> Agreement:
    now = utcnow()
    expires_at = _expiry(cmd, now)
    emails = [s.email.lower() for s in cmd.signers]
    if len(set(emails)) != len(emails):
        raise Invalid("signers", "Each signer needs a different email address.")
    agreement = Agreement(
        id=new_id("agr"), workspace_id=workspace_id, title=cmd.title, document_id=document.id,
        document_sha256=document.sha256, document_pages=document.pages,
        document_page_sizes=[list(size) for size in document.page_sizes] if document.page_sizes else None,
        message=cmd.message,
        signing_order=cmd.signing_order, status="draft", sender_name=sender.name,
        sender_email=sender.email, expires_at=expires_at, created_at=now, sent_at=None,
        completed_at=None, ended_at=None, evidence_status="none", metadata_=dict(cmd.metadata),
        livemode=livemode,
        # Set, not left to lazy loading: the object is read after its unit of work closed.
        signers=[], fields=[],
    )
    by_email = {}
    for index, signer_in in enumerate(cmd.signers):
        signer = Signer(id=new_id("sgr"), name=signer_in.name, email=signer_in.email.lower(),
                        order=signer_in.order or index + 1, status="pending")
        agreement.signers.append(signer)
        by_email[signer.email] = signer
    for index, field_in in enumerate(cmd.fields):
        signer = by_email.get(field_in.signer_email.lower())
        if signer is None:
            raise Invalid(f"fields.{index}.signer_email", "Not the email of a signer of this agreement.")
        _check_placement(index, field_in, document)
        agreement.fields.append(Field(
            id=new_id("fld"), signer_id=signer.id, position=index, type=field_in.type,
            page=field_in.page, x=field_in.x, y=field_in.y, width=field_in.width,
            height=field_in.height, required=field_in.required, value=None))
    with uow:
        uow.session.add(agreement)
        uow.publish(ctx.event("agreement.created", AgreementCreated(
            agreement_id=agreement.id, title=agreement.title, document_id=document.id,
            document_sha256=document.sha256, document_pages=document.pages,
            message=agreement.message, signing_order=agreement.signing_order,
            expires_at=expires_at, sender=Person(name=sender.name, email=sender.email),
            signers=[SignerSummary(id=s.id, name=s.name, email=s.email, order=s.order)
                     for s in agreement.signers],
            fields=[FieldPlacement(id=f.id, signer_id=f.signer_id, type=f.type, page=f.page,
                                   x=f.x, y=f.y, width=f.width, height=f.height,
                                   required=f.required) for f in agreement.fields],
        ), agreement))
        uow.commit()
    return agreement


def invite(agreement: Agreement, signer: Signer, ctx: Context, uow: SqlAlchemyUnitOfWork,
           *, reminder: bool = False) -> None:
    """Issue the signer's token (once) and queue the invitation or reminder carrying the link."""
    if signer.token_sealed is None:
        token = tokens.new_token()
        signer.token_hash = tokens.token_hash(token)
        signer.token_sealed = ctx.vault.seal(token, signer.id, agreement.workspace_id)
    else:
        token = ctx.vault.open(signer.token_sealed, signer.id)
    if not reminder:
        signer.status = "invited"
        signer.invited_at = utcnow()
    data = SignerInvited(
        agreement_id=agreement.id, signer_id=signer.id, name=signer.name, email=signer.email,
        link=SealedLink(sealed=seal_link(ctx.master_key, ctx.link(token), signer.id)),
        message=agreement.message, sender=Person(name=agreement.sender_name, email=agreement.sender_email),
        title=agreement.title, expires_at=agreement.expires_at,
    )
    uow.publish(ctx.event("signer.reminded" if reminder else "signer.invited", data, agreement))


def next_to_invite(agreement: Agreement) -> list[Signer]:
    pending = [s for s in agreement.signers if s.status == "pending"]
    if agreement.signing_order == "parallel" or not pending:
        return pending
    if any(s.status in ("invited", "viewed") for s in agreement.signers):
        return []
    first = min(s.order for s in pending)
    return [s for s in pending if s.order == first]


def send(workspace_id: str, agreement_id: str, ctx: Context, uow: SqlAlchemyUnitOfWork, *,
         new_workspace_signer_cap: int = 0,
         livemode: bool | None = None) -> Agreement:
    """The send's quota was decided by the gateway before it forwarded the request
    (pactra_gateway.quota_gate); the ``usage.recorded`` events published here, under the
    source id it reserved with (``<agreement id>:send``), confirm that reservation."""
    with uow:
        agreement = load(uow, workspace_id, agreement_id, lock=True, livemode=livemode)
        if agreement.status != "draft":
            raise Conflict(f"Only a draft can be sent; this agreement is {agreement.status}.")
        if agreement.expires_at <= utcnow():
            raise Conflict("This agreement expired before it was sent.")
        invitees = next_to_invite(agreement)
        if agreement.livemode:
            # A test agreement mails only the workspace's verified addresses (notify), so it
            # cannot be used to reach strangers: the new-workspace cap is for live sends.
            abuse.check_new_workspace_cap(uow.session, uow.session.get(Sender, workspace_id),
                                          workspace_id, len(invitees), new_workspace_signer_cap)
        # Every signer counts at send, sequential ones too: the send commits to inviting them.
        usage = {"agreements_sent": 1, "signers_invited": len(agreement.signers)}
        source_id = f"{agreement.id}:send"
        for metric, quantity in usage.items():
            # Not ctx.event: usage is no change of the agreement (its version stays).
            uow.publish(make_event("usage.recorded", UsageRecorded(
                workspace_id=workspace_id, metric=metric, quantity=quantity,
                source_event_id=source_id, occurred_at=utcnow(), livemode=agreement.livemode),
                producer="signing",
                workspace_id=workspace_id, correlation_id=ctx.request_id))
        agreement.status = "sent"
        agreement.sent_at = utcnow()
        uow.publish(ctx.event("agreement.sent", AgreementSent(
            agreement_id=agreement.id, signing_order=agreement.signing_order,
            signer_ids=[s.id for s in invitees]), agreement))
        for signer in invitees:
            invite(agreement, signer, ctx, uow)
        uow.commit()
        return agreement


def remind(workspace_id: str, agreement_id: str, ctx: Context, uow: SqlAlchemyUnitOfWork, *,
           livemode: bool | None = None) -> Agreement:
    with uow:
        agreement = load(uow, workspace_id, agreement_id, lock=True, livemode=livemode)
        if agreement.status != "sent":
            raise Conflict(f"Only a sent agreement can be reminded; this one is {agreement.status}.")
        now = utcnow()
        waiting = [s for s in agreement.signers if s.status in ("invited", "viewed")]
        due = [s for s in waiting if abuse.reminder_wait(s, now) == 0]
        if waiting and not due:
            # Every signer waiting was reminded within the hour: nothing to send yet.
            wait = min(abuse.reminder_wait(s, now) for s in waiting)
            raise ProblemError("rate_limited", "Each signer can be reminded at most once an hour.",
                               headers={"Retry-After": str(max(math.ceil(wait), 1))})
        for signer in due:
            signer.reminded_at = now
            invite(agreement, signer, ctx, uow, reminder=True)
        uow.commit()
        return agreement


def end(agreement: Agreement, outcome: str, reason: str | None, ctx: Context,
        uow: SqlAlchemyUnitOfWork, *, actor: Actor | None = None) -> None:
    """Move a sent agreement to an ended status and ask for its evidence."""
    now = utcnow()
    agreement.status = outcome
    agreement.ended_at = now
    agreement.end_reason = reason
    agreement.evidence_status = "issuing"
    if outcome == "completed":
        agreement.completed_at = now
        return
    told = [s.id for s in agreement.signers if s.status != "pending"]
    uow.publish(ctx.event(f"agreement.{outcome}", AgreementEnded(
        agreement_id=agreement.id, reason=reason, notify_signer_ids=told), agreement,
        actor=actor or ctx.actor))


def void(workspace_id: str, agreement_id: str, reason: str, ctx: Context,
         uow: SqlAlchemyUnitOfWork, *, livemode: bool | None = None) -> Agreement:
    with uow:
        agreement = load(uow, workspace_id, agreement_id, lock=True, livemode=livemode)
        if agreement.status != "sent":
            raise Conflict(f"Only a sent agreement can be voided; this one is {agreement.status}.")
        end(agreement, "voided", reason, ctx, uow)
        uow.commit()
        return agreement


def signer_link(workspace_id: str, agreement_id: str, signer_id: str, ctx: Context,
                uow: SqlAlchemyUnitOfWork, *, livemode: bool | None = None) -> tuple[str, datetime]:
    with uow:
        agreement = load(uow, workspace_id, agreement_id, livemode=livemode)
        signer = next((s for s in agreement.signers if s.id == signer_id), None)
        if signer is None:
            raise NotFound(signer_id)
        if signer.status in ("signed", "declined") or agreement.ended:
            raise Gone("This signer has finished, or the agreement has ended.")
        if agreement.status == "draft":
            raise Conflict("Send the agreement first.")
        if signer.token_sealed is None:
            raise Conflict("This signer's turn has not come yet.")
        return ctx.link(ctx.vault.open(signer.token_sealed, signer.id)), agreement.expires_at


def expire_due(ctx: Context, uow: SqlAlchemyUnitOfWork, limit: int = 100) -> int:
    """End every sent agreement whose time has passed (the periodic job)."""
    with uow:
        due = list(uow.session.scalars(
            select(Agreement)
            .where(Agreement.status == "sent", Agreement.expires_at <= utcnow())
            .order_by(Agreement.expires_at).limit(limit).with_for_update(skip_locked=True)
        ))
        for agreement in due:
            end(agreement, "expired", "The agreement expired before everyone signed.", ctx, uow)
        uow.commit()
        return len(due)
