"""The audit trail (receipts.md, "Audit trail"): which facts of each event are evidence, and
how an entry is chained onto the one before it. Plain functions: no database, no bus."""

import base64
import hashlib
from typing import Any

from pactra_contracts.events import (
    AgreementCompleted,
    AgreementCreated,
    AgreementEnded,
    AgreementSent,
    Event,
    Signature,
    SignerDeclined,
    SignerInvited,
    SignerSigned,
    SignerViewed,
)
from pactra_contracts.times import format_time

from .canonical import jcs_sha256

GENESIS = "0" * 64
TRAIL_EVENTS = (
    "agreement.created", "agreement.sent", "signer.invited", "signer.reminded", "signer.viewed",
    "signer.signed", "signer.declined", "agreement.completed", "agreement.declined",
    "agreement.voided", "agreement.expired",
)


def signature_digest(signature: Signature | dict) -> dict[str, str]:
    """A signature as evidence: its kind and the SHA-256 of its text or image bytes."""
    sig = signature if isinstance(signature, Signature) else Signature.model_validate(signature)
    raw = (sig.text or "").encode() if sig.type == "typed" else base64.b64decode(sig.png_base64 or "")
    return {"type": sig.type, "sha256": hashlib.sha256(raw).hexdigest()}


def evidence_of(event: Event) -> dict[str, Any]:
    """The facts of ``event`` that go into its entry: never a link or token, no geometry,
    no floats."""
    data = event.payload()
    if isinstance(data, AgreementCreated):
        return {
            "agreement_id": data.agreement_id, "title": data.title,
            "document_id": data.document_id, "document_sha256": data.document_sha256,
            "document_pages": data.document_pages, "signing_order": data.signing_order,
            "expires_at": format_time(data.expires_at),
            "sender": {"name": data.sender.name, "email": data.sender.email},
            "signers": [{"signer_id": s.id, "name": s.name, "email": s.email, "order": s.order}
                        for s in data.signers],
            # Only a test agreement says so (api.md, "Test mode"): live trails keep their shape.
            **({} if data.livemode else {"livemode": False}),
        }
    if isinstance(data, AgreementSent):
        return {"agreement_id": data.agreement_id, "signing_order": data.signing_order,
                "signer_ids": list(data.signer_ids)}
    if isinstance(data, SignerInvited):
        return {"agreement_id": data.agreement_id, "signer_id": data.signer_id,
                "name": data.name, "email": data.email}
    if isinstance(data, SignerViewed):
        return {"agreement_id": data.agreement_id, "signer_id": data.signer_id}
    if isinstance(data, SignerSigned):
        return {"agreement_id": data.agreement_id, "signer_id": data.signer_id,
                "consent_at": format_time(data.consent_at),
                "document_sha256": data.document_sha256,
                "signature": signature_digest(data.signature),
                "field_values": dict(data.field_values)}
    if isinstance(data, SignerDeclined):
        return {"agreement_id": data.agreement_id, "signer_id": data.signer_id,
                "reason": data.reason}
    if isinstance(data, AgreementCompleted):
        return {"agreement_id": data.agreement_id,
                "signer_ids": [s.signer_id for s in data.signatures]}
    if isinstance(data, AgreementEnded):
        return {"agreement_id": data.agreement_id, "reason": data.reason}
    raise ValueError(f"{event.type} is not an audit event")


def make_entry(seq: int, entry_type: str, at: str, actor: dict[str, Any], data: dict[str, Any],
               prev: str) -> dict[str, Any]:
    entry = {"seq": seq, "type": entry_type, "at": at, "actor": actor, "data": data, "prev": prev}
    entry["hash"] = jcs_sha256(entry)
    return entry


def actor_of(event: Event) -> dict[str, Any]:
    actor = event.actor
    return {"kind": actor.kind, "id": actor.id, "ip": actor.ip, "user_agent": actor.user_agent}
