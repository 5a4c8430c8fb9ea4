"""What a signer does through their link: view, sign, decline."""

from dataclasses import dataclass

from pactra_contracts.api import SignRequest
from pactra_contracts.events import (
    Actor,
    AgreementCompleted,
    Signature,
    SignedBy,
    SignerDeclined,
    SignerSigned,
    SignerViewed,
)
from pactra_contracts.times import utcnow

from ..adapters import tokens
from ..domain.agreement import Agreement, Signer
from ..domain.errors import NotFound
from .agreements import expire, invite, publish_ending
from .context import Context
from .unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Outcome:
    signer_status: str
    agreement_status: str


def find(uow: UnitOfWork, token: str, *, lock: bool = False) -> tuple[Agreement, Signer]:
    """The agreement (locked with ``lock``) and the signer a token belongs to."""
    if not tokens.plausible(token):
        raise NotFound("token")
    token_hash = tokens.token_hash(token)
    agreement = uow.agreements.by_token_hash(token_hash, lock=lock)
    if agreement is None:
        raise NotFound("token")
    signer = next((s for s in agreement.signers if s.token_hash == token_hash), None)
    if signer is None:
        raise NotFound("token")
    return agreement, signer


def _signer_actor(signer: Signer, ip: str | None, user_agent: str | None) -> Actor:
    return Actor(kind="signer", id=signer.id, ip=ip, user_agent=user_agent)


def view(token: str, ctx: Context, uow: UnitOfWork, ip: str | None,
         user_agent: str | None) -> tuple[Agreement, Signer]:
    """Look the signer up; the first look while invited records them as having viewed."""
    with uow:
        agreement, signer = find(uow, token, lock=True)
        if agreement.view(signer, utcnow()):
            uow.publish(ctx.event("signer.viewed", SignerViewed(
                agreement_id=agreement.id, signer_id=signer.id), agreement,
                actor=_signer_actor(signer, ip, user_agent)))
            uow.commit()
        return agreement, signer


def _expire_if_overdue(agreement: Agreement, ctx: Context, uow: UnitOfWork) -> None:
    if agreement.overdue(utcnow()):
        # The periodic job has not got to it yet; time has decided all the same (and stays
        # decided: committed before the signer's action is refused).
        expire(agreement, ctx, uow)
        uow.commit()


def sign(token: str, cmd: SignRequest, ctx: Context, uow: UnitOfWork,
         ip: str | None, user_agent: str | None) -> Outcome:
    with uow:
        agreement, signer = find(uow, token, lock=True)
        _expire_if_overdue(agreement, ctx, uow)
        now = utcnow()
        signed = agreement.sign(signer, cmd, now, ip, user_agent)
        actor = _signer_actor(signer, ip, user_agent)
        uow.publish(ctx.event("signer.signed", SignerSigned(
            agreement_id=agreement.id, signer_id=signer.id, consent_at=now,
            document_sha256=agreement.document_sha256, signature=signed.signature,
            field_values=signed.values,
        ), agreement, actor=actor))
        if signed.completed:
            uow.publish(ctx.event("agreement.completed", AgreementCompleted(
                agreement_id=agreement.id,
                signatures=[SignedBy(
                    signer_id=s.id, signature=Signature.model_validate(s.signature),
                    field_values={f.id: f.value for f in agreement.fields
                                  if f.signer_id == s.id and f.value is not None},
                ) for s in agreement.signers],
            ), agreement, actor=actor))
        for following in signed.following:
            invite(agreement, following, ctx, uow)
        uow.commit()
        return Outcome(signer.status, agreement.status)


def decline(token: str, reason: str, ctx: Context, uow: UnitOfWork,
            ip: str | None, user_agent: str | None) -> Outcome:
    with uow:
        agreement, signer = find(uow, token, lock=True)
        _expire_if_overdue(agreement, ctx, uow)
        agreement.decline(signer, reason, utcnow(), ip, user_agent)
        actor = _signer_actor(signer, ip, user_agent)
        uow.publish(ctx.event("signer.declined", SignerDeclined(
            agreement_id=agreement.id, signer_id=signer.id, reason=reason), agreement, actor=actor))
        publish_ending(agreement, ctx, uow, actor=actor)
        uow.commit()
        return Outcome(signer.status, agreement.status)
