"""What a signer does through their link: view, sign, decline."""

import base64
import binascii
import struct
import zlib
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from pactra_contracts.api import DrawnSignature, SignRequest
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
from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork

from . import tokens
from .agreements import Context, Gone, Invalid, NotFound, end, invite, next_to_invite
from .models import Agreement, Signer

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_SIGNATURE_PNG = 1024 * 1024
# A PNG compresses very well: 1 MiB can declare a 30,000 x 30,000 image that inflates to
# gigabytes where the receipts issuer decodes it. Its header says the size before anything
# is inflated, so the bounds are checked here, at sign time.
MAX_SIGNATURE_PIXELS = 4_000_000
MAX_SIGNATURE_BIT_DEPTH = 8
# Colour type -> the bit depths the PNG specification allows for it.
PNG_BIT_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
SIGNATURE_FIELDS = ("signature", "initials")


@dataclass(frozen=True)
class Outcome:
    signer_status: str
    agreement_status: str


def find(uow: SqlAlchemyUnitOfWork, token: str, *, lock: bool = False) -> tuple[Agreement, Signer]:
    """The agreement (locked with ``lock``) and the signer a token belongs to.

    One statement finds the agreement through its signer's token hash and locks it; its signers
    are read after that (they load "selectin"), so the signer is as fresh as the lock."""
    if not tokens.plausible(token):
        raise NotFound("token")
    token_hash = tokens.token_hash(token)
    query = select(Agreement).join(Signer, Signer.agreement_id == Agreement.id).where(
        Signer.token_hash == token_hash)
    agreement = uow.session.scalar(query.with_for_update(of=Agreement) if lock else query)
    if agreement is None:
        raise NotFound("token")
    signer = next((s for s in agreement.signers if s.token_hash == token_hash), None)
    if signer is None:
        raise NotFound("token")
    return agreement, signer


def _signer_actor(signer: Signer, ip: str | None, user_agent: str | None) -> Actor:
    return Actor(kind="signer", id=signer.id, ip=ip, user_agent=user_agent)


def view(token: str, ctx: Context, uow: SqlAlchemyUnitOfWork, ip: str | None,
         user_agent: str | None) -> tuple[Agreement, Signer]:
    """Look the signer up; the first look while invited records them as having viewed."""
    with uow:
        agreement, signer = find(uow, token, lock=True)
        if signer.status == "invited" and agreement.status == "sent":
            signer.status = "viewed"
            signer.viewed_at = utcnow()
            uow.publish(ctx.event("signer.viewed", SignerViewed(
                agreement_id=agreement.id, signer_id=signer.id), agreement,
                actor=_signer_actor(signer, ip, user_agent)))
            uow.commit()
        return agreement, signer


def _still_open(agreement: Agreement, signer: Signer, ctx: Context, uow: SqlAlchemyUnitOfWork) -> None:
    if agreement.status == "sent" and agreement.expires_at <= utcnow():
        # The periodic job has not got to it yet; time has decided all the same.
        end(agreement, "expired", "The agreement expired before everyone signed.", ctx, uow)
        uow.commit()
    if agreement.status != "sent" or signer.status not in ("invited", "viewed"):
        raise Gone("This link can no longer be used to sign: the signer finished or the agreement ended.")


FieldValues = dict[str, str | bool]


def _field_values(agreement: Agreement, signer: Signer, given: FieldValues) -> FieldValues:
    mine = {f.id: f for f in agreement.fields if f.signer_id == signer.id}
    unknown = set(given) - {fid for fid, f in mine.items() if f.type not in SIGNATURE_FIELDS}
    if unknown:
        raise Invalid("fields", f"Not fields this signer fills: {', '.join(sorted(unknown))}.")
    values: dict[str, str | bool] = {}
    for field_id, field in mine.items():
        if field.type in SIGNATURE_FIELDS:
            values[field_id] = True
            continue
        value = given.get(field_id)
        if value is None or value == "":
            if field.required and field.type != "checkbox":
                raise Invalid(f"fields.{field_id}", f"This {field.type} field is required.")
            if field.type == "checkbox":
                values[field_id] = False
            continue
        if field.type == "checkbox":
            if not isinstance(value, bool):
                raise Invalid(f"fields.{field_id}", "A checkbox takes true or false.")
            if field.required and value is not True:
                raise Invalid(f"fields.{field_id}", "This checkbox must be ticked.")
        elif field.type == "date":
            if not isinstance(value, str):
                raise Invalid(f"fields.{field_id}", "A date is a YYYY-MM-DD string.")
            try:
                date.fromisoformat(value)
            except ValueError as exc:
                raise Invalid(f"fields.{field_id}", "A date is a YYYY-MM-DD string.") from exc
            if len(value) != 10:
                raise Invalid(f"fields.{field_id}", "A date is a YYYY-MM-DD string.")
        elif not isinstance(value, str) or len(value) > 1000:
            raise Invalid(f"fields.{field_id}", "Text is a string of up to 1,000 characters.")
        values[field_id] = value
    return values


def _signature(cmd: SignRequest) -> Signature:
    if isinstance(cmd.signature, DrawnSignature):
        try:
            png = base64.b64decode(cmd.signature.png_base64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise Invalid("signature.png_base64", "The drawn signature is not base64.") from exc
        if not png.startswith(PNG_MAGIC) or len(png) > MAX_SIGNATURE_PNG:
            raise Invalid("signature.png_base64", "The drawn signature must be a PNG of at most 1 MiB.")
        _check_png_header(png)
        return Signature(type="drawn", png_base64=cmd.signature.png_base64)
    return Signature(type="typed", text=cmd.signature.text)


def _check_png_header(png: bytes) -> None:
    """The PNG's IHDR (the chunk right after the signature): well formed, at most
    MAX_SIGNATURE_PIXELS and MAX_SIGNATURE_BIT_DEPTH bits per channel. Reads 33 bytes and
    inflates nothing."""
    field = "signature.png_base64"
    header = png[len(PNG_MAGIC):len(PNG_MAGIC) + 25]
    if len(header) < 25:
        raise Invalid(field, "The drawn signature is not a complete PNG.")
    length, kind = struct.unpack(">I4s", header[:8])
    body, crc = header[8:21], struct.unpack(">I", header[21:25])[0]
    if length != 13 or kind != b"IHDR" or zlib.crc32(kind + body) != crc:
        raise Invalid(field, "The drawn signature's PNG header is malformed.")
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(">IIBBBBB", body)
    if (not 0 < width < 2**31 or not 0 < height < 2**31 or depth not in PNG_BIT_DEPTHS.get(colour, ())
            or compression != 0 or filtering != 0 or interlace not in (0, 1)):
        raise Invalid(field, "The drawn signature's PNG header is malformed.")
    if width * height > MAX_SIGNATURE_PIXELS:
        raise Invalid(field, f"The drawn signature is {width} x {height} pixels; at most "
                             f"{MAX_SIGNATURE_PIXELS:,} pixels are allowed.")
    if depth > MAX_SIGNATURE_BIT_DEPTH:
        raise Invalid(field, f"The drawn signature has {depth} bits per channel; "
                             f"at most {MAX_SIGNATURE_BIT_DEPTH} are allowed.")


def sign(token: str, cmd: SignRequest, ctx: Context, uow: SqlAlchemyUnitOfWork,
         ip: str | None, user_agent: str | None) -> Outcome:
    with uow:
        agreement, signer = find(uow, token, lock=True)
        _still_open(agreement, signer, ctx, uow)
        if cmd.consent is not True:
            raise Invalid("consent", "Consent to sign electronically is required.")
        values = _field_values(agreement, signer, cmd.fields)
        signature = _signature(cmd)
        now = utcnow()
        actor = _signer_actor(signer, ip, user_agent)
        if signer.viewed_at is None:
            signer.viewed_at = now
        signer.status = "signed"
        signer.consent_at = now
        signer.signed_at = now
        signer.signature = signature.model_dump(mode="json")
        signer.ip = ip
        signer.user_agent = (user_agent or "")[:500] or None
        for field in agreement.fields:
            if field.id in values:
                field.value = values[field.id]
        uow.publish(ctx.event("signer.signed", SignerSigned(
            agreement_id=agreement.id, signer_id=signer.id, consent_at=now,
            document_sha256=agreement.document_sha256, signature=signature, field_values=values,
        ), agreement, actor=actor))
        if all(s.status == "signed" for s in agreement.signers):
            end(agreement, "completed", None, ctx, uow, actor=actor)
            uow.publish(ctx.event("agreement.completed", AgreementCompleted(
                agreement_id=agreement.id,
                signatures=[SignedBy(
                    signer_id=s.id, signature=Signature.model_validate(s.signature),
                    field_values={f.id: f.value for f in agreement.fields
                                  if f.signer_id == s.id and f.value is not None},
                ) for s in agreement.signers],
            ), agreement, actor=actor))
        else:
            for following in next_to_invite(agreement):
                invite(agreement, following, ctx, uow)
        uow.commit()
        return Outcome(signer.status, agreement.status)


def decline(token: str, reason: str, ctx: Context, uow: SqlAlchemyUnitOfWork,
            ip: str | None, user_agent: str | None) -> Outcome:
    with uow:
        agreement, signer = find(uow, token, lock=True)
        _still_open(agreement, signer, ctx, uow)
        actor = _signer_actor(signer, ip, user_agent)
        signer.status = "declined"
        signer.declined_at = utcnow()
        signer.decline_reason = reason
        signer.ip = ip
        signer.user_agent = (user_agent or "")[:500] or None
        uow.publish(ctx.event("signer.declined", SignerDeclined(
            agreement_id=agreement.id, signer_id=signer.id, reason=reason), agreement, actor=actor))
        end(agreement, "declined", reason, ctx, uow, actor=actor)
        uow.commit()
        return Outcome(signer.status, agreement.status)
