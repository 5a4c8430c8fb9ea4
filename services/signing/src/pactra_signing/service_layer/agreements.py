"""What a sender does with an agreement: create, send, remind, void, embed a link (deleting
one: retention.py); and what time does to it (expiry). Each is one unit of work: load the
agreement, let it change itself (domain/agreement.py decides what is allowed), publish the
events for what changed, commit."""

import time
from collections.abc import Callable
from datetime import datetime

from pactra_contracts.api import AgreementCreate
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
from pactra_contracts.times import utcnow

from ..adapters import tokens
from ..adapters.links import seal_link
from ..domain.agreement import Agreement, DocumentInfo, Signer
from ..domain.errors import NotFound, NotReady
from ..domain.workspace import CAP_WINDOW, Sender, check_new_workspace_cap
from .context import Context
from .unit_of_work import UnitOfWork


def create(cmd: AgreementCreate, workspace_id: str, document: DocumentInfo, sender: Sender,
           ctx: Context, uow: UnitOfWork, *, livemode: bool = True) -> Agreement:
    agreement = Agreement.draft(cmd, workspace_id, document, sender, utcnow(), livemode=livemode)
    with uow:
        uow.agreements.add(agreement)
        uow.publish(ctx.event("agreement.created", AgreementCreated(
            agreement_id=agreement.id, title=agreement.title, document_id=document.id,
            document_sha256=document.sha256, document_pages=document.pages,
            message=agreement.message, signing_order=agreement.signing_order,
            expires_at=agreement.expires_at, sender=Person(name=sender.name, email=sender.email),
            signers=[SignerSummary(id=s.id, name=s.name, email=s.email, order=s.order)
                     for s in agreement.signers],
            fields=[FieldPlacement(id=f.id, signer_id=f.signer_id, type=f.type, page=f.page,
                                   x=f.x, y=f.y, width=f.width, height=f.height,
                                   required=f.required) for f in agreement.fields],
        ), agreement))
        uow.commit()
    return agreement


def invite(agreement: Agreement, signer: Signer, ctx: Context, uow: UnitOfWork,
           *, reminder: bool = False) -> None:
    """Issue the signer's token (once) and queue the invitation or reminder carrying the link."""
    if signer.token_sealed is None:
        token = tokens.new_token()
        signer.token_hash = tokens.token_hash(token)
        signer.token_sealed = ctx.vault.seal(token, signer.id, agreement.workspace_id)
    else:
        token = ctx.vault.open(signer.token_sealed, signer.id)
    if not reminder:
        signer.invite(utcnow())
    data = SignerInvited(
        agreement_id=agreement.id, signer_id=signer.id, name=signer.name, email=signer.email,
        link=SealedLink(sealed=seal_link(ctx.master_key, ctx.link(token), signer.id)),
        message=agreement.message, sender=Person(name=agreement.sender_name, email=agreement.sender_email),
        title=agreement.title, expires_at=agreement.expires_at,
    )
    uow.publish(ctx.event("signer.reminded" if reminder else "signer.invited", data, agreement))


def send(workspace_id: str, agreement_id: str, ctx: Context, uow: UnitOfWork, *,
         new_workspace_signer_cap: int = 0, livemode: bool | None = None) -> Agreement:
    """The send's quota was decided by the gateway before it forwarded the request
    (the gateway's quota gate); the ``usage.recorded`` events published here, under the
    source id it reserved with (``<agreement id>:send``), confirm that reservation."""
    with uow:
        agreement = uow.agreements.get(workspace_id, agreement_id, lock=True, livemode=livemode)
        now = utcnow()
        invitees = agreement.to_send(now)
        if agreement.livemode:
            # A test agreement mails only the workspace's verified addresses (notify), so it
            # cannot be used to reach strangers: the new-workspace cap is for live sends.
            _check_new_workspace_cap(uow, workspace_id, len(invitees), new_workspace_signer_cap)
        # Every signer counts at send, sequential ones too: the send commits to inviting them.
        usage = {"agreements_sent": 1, "signers_invited": len(agreement.signers)}
        source_id = f"{agreement.id}:send"
        for metric, quantity in usage.items():
            # Not ctx.event: usage is no change of the agreement (its version stays).
            uow.publish(make_event("usage.recorded", UsageRecorded(
                workspace_id=workspace_id, metric=metric, quantity=quantity,
                source_event_id=source_id, occurred_at=utcnow(), livemode=agreement.livemode),
                producer="signing", workspace_id=workspace_id, correlation_id=ctx.request_id))
        agreement.send(now)
        uow.publish(ctx.event("agreement.sent", AgreementSent(
            agreement_id=agreement.id, signing_order=agreement.signing_order,
            signer_ids=[s.id for s in invitees]), agreement))
        for signer in invitees:
            invite(agreement, signer, ctx, uow)
        uow.commit()
        return agreement


def _check_new_workspace_cap(uow: UnitOfWork, workspace_id: str, inviting: int, cap: int) -> None:
    """In the send transaction: in a workspace's first 7 days, at most ``cap`` signers a day
    (rolling 24 h; issue 16). The count stays locked until the transaction ends."""
    now = utcnow()
    sender = uow.senders.get(workspace_id)
    if sender is None or not sender.capped(cap, inviting, now):
        return
    used, oldest = uow.agreements.invitations_since(workspace_id, now - CAP_WINDOW)
    check_new_workspace_cap(cap, inviting, used, oldest, now)


def remind(workspace_id: str, agreement_id: str, ctx: Context, uow: UnitOfWork, *,
           livemode: bool | None = None) -> Agreement:
    with uow:
        agreement = uow.agreements.get(workspace_id, agreement_id, lock=True, livemode=livemode)
        for signer in agreement.remind(utcnow()):
            invite(agreement, signer, ctx, uow, reminder=True)
        uow.commit()
        return agreement


def publish_ending(agreement: Agreement, ctx: Context, uow: UnitOfWork, *,
                   actor: Actor | None = None) -> None:
    """The event of an agreement that just ended other than by completing (which has its own,
    with the signatures): the signers who were told of it are told it ended."""
    told = [s.id for s in agreement.signers if s.status != "pending"]
    uow.publish(ctx.event(f"agreement.{agreement.status}", AgreementEnded(
        agreement_id=agreement.id, reason=agreement.outcome_reason, notify_signer_ids=told), agreement,
        actor=actor))


def void(workspace_id: str, agreement_id: str, reason: str, ctx: Context, uow: UnitOfWork, *,
         livemode: bool | None = None) -> Agreement:
    with uow:
        agreement = uow.agreements.get(workspace_id, agreement_id, lock=True, livemode=livemode)
        agreement.void(reason, utcnow())
        publish_ending(agreement, ctx, uow)
        uow.commit()
        return agreement


def signer_link(workspace_id: str, agreement_id: str, signer_id: str, ctx: Context,
                uow: UnitOfWork, *, livemode: bool | None = None) -> tuple[str, datetime]:
    with uow:
        agreement = uow.agreements.get(workspace_id, agreement_id, livemode=livemode)
        signer = agreement.signer(signer_id)
        if signer is None:
            raise NotFound(signer_id)
        agreement.check_link(signer)
        assert signer.token_sealed is not None  # check_link: the signer was invited
        return ctx.link(ctx.vault.open(signer.token_sealed, signer.id)), agreement.expires_at


def expire(agreement: Agreement, ctx: Context, uow: UnitOfWork) -> None:
    """End a sent agreement whose time has passed, and say so."""
    agreement.expire(utcnow())
    publish_ending(agreement, ctx, uow)


def expire_due(ctx: Context, uow: UnitOfWork, limit: int = 100) -> int:
    """End every sent agreement whose time has passed (the periodic job)."""
    with uow:
        due = uow.agreements.due_to_expire(utcnow(), limit)
        for agreement in due:
            expire(agreement, ctx, uow)
        uow.commit()
        return len(due)


# A workspace's sender arrives by event moments after signup; an API call that races it
# waits this long before giving up.
SENDER_PATIENCE_SECONDS = 5.0
SENDER_POLL_SECONDS = 0.1


def sender_of(uow_factory: Callable[[], UnitOfWork], workspace_id: str, *,
              patience: float = SENDER_PATIENCE_SECONDS) -> Sender:
    """The workspace's sender, waiting up to ``patience`` seconds for its event; ``NotReady``
    after that."""
    deadline = time.monotonic() + patience
    while True:
        with uow_factory() as uow:
            sender = uow.senders.get(workspace_id)
        if sender is not None:
            return sender
        if time.monotonic() > deadline:
            raise NotReady("This workspace is still being set up; retry shortly.")
        time.sleep(SENDER_POLL_SECONDS)
