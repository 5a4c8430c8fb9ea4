"""The audit trail (receipts.md, "Audit trail"): which facts of each event are evidence, how
an entry is chained onto the one before it, what each event says about the agreement and its
signers, and when the trail holds everything a receipt covers. Plain Python: no database, no
bus; the agreement and signer records are whatever the repository keeps (the ORM rows, or a
test's fakes)."""

import base64
import hashlib
from collections.abc import Callable, Mapping
from typing import Any, Protocol

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
# The event that ends an agreement -> its outcome.
ENDINGS = {
    "agreement.completed": "completed",
    "agreement.declined": "declined",
    "agreement.voided": "voided",
    "agreement.expired": "expired",
}
SIGNER_PROGRESS = ("pending", "invited", "viewed", "signed", "declined")
# Who the evidence's own entries (receipt.issued) are by.
SYSTEM_ACTOR: dict[str, Any] = {"kind": "system", "id": "system", "ip": None, "user_agent": None}


class TrackedAgreement(Protocol):
    """An agreement as its trail knows it, from whichever of its events came first."""

    id: str
    workspace_id: str
    created: dict[str, Any] | None  # agreement.created's payload, once it arrived
    outcome: str | None
    outcome_reason: str | None
    entries: int
    head: str
    livemode: bool


class SignerEvidence(Protocol):
    """What the receipt and the stamped PDF need about one signer, raw signature included."""

    signer_id: str
    status: str
    invited_at: str | None
    viewed_at: str | None
    consent_at: str | None
    signed_at: str | None
    declined_at: str | None
    ip: str | None
    user_agent: str | None
    document_sha256: str | None
    signature: dict[str, Any] | None
    field_values: dict[str, Any] | None


def signature_digest(signature: Signature | dict[str, Any]) -> dict[str, str]:
    """A signature as evidence: its kind and the SHA-256 of its text or image bytes."""
    sig = signature if isinstance(signature, Signature) else Signature.model_validate(signature)
    raw = (sig.text or "").encode() if sig.type == "typed" else base64.b64decode(sig.png_base64 or "")
    return {"type": sig.type, "sha256": hashlib.sha256(raw).hexdigest()}


def evidence_of(event: Event[Any]) -> dict[str, Any]:
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


def actor_of(event: Event[Any]) -> dict[str, Any]:
    actor = event.actor
    return {"kind": actor.kind, "id": actor.id, "ip": actor.ip, "user_agent": actor.user_agent}


def chain(agreement: TrackedAgreement, entry_type: str, at: str, actor: dict[str, Any],
          data: dict[str, Any]) -> dict[str, Any]:
    """The next entry of ``agreement``'s trail; the agreement's head moves onto it."""
    entry = make_entry(agreement.entries, entry_type, at, actor, data, agreement.head)
    agreement.entries += 1
    agreement.head = entry["hash"]
    return entry


def advance(evidence: SignerEvidence, status: str) -> None:
    """Statuses only move forward: a late view never undoes a signature."""
    if SIGNER_PROGRESS.index(status) > SIGNER_PROGRESS.index(evidence.status or "pending"):
        evidence.status = status


def note(agreement: TrackedAgreement, event: Event[Any], at: str,
         signer: Callable[[str], SignerEvidence]) -> None:
    """What ``event`` (already chained at ``at``) says about the agreement and its signers;
    ``signer(id)`` is that signer's evidence, made if absent."""
    data = event.payload()
    if isinstance(data, AgreementCreated):
        agreement.created = data.model_dump(mode="json")
        for each in data.signers:
            signer(each.id)
    elif isinstance(data, SignerInvited):
        evidence = signer(data.signer_id)
        if event.type == "signer.invited":
            # Not a reminder (same payload): the receipt waits for the invitation itself.
            evidence.invited_at = evidence.invited_at or at
        advance(evidence, "invited")
    elif isinstance(data, SignerViewed):
        evidence = signer(data.signer_id)
        evidence.viewed_at = evidence.viewed_at or at
        advance(evidence, "viewed")
    elif isinstance(data, SignerSigned):
        evidence = signer(data.signer_id)
        advance(evidence, "signed")
        evidence.signed_at = at
        evidence.consent_at = format_time(data.consent_at)
        evidence.document_sha256 = data.document_sha256
        evidence.signature = data.signature.model_dump(mode="json")
        evidence.field_values = dict(data.field_values)
        evidence.ip, evidence.user_agent = event.actor.ip, event.actor.user_agent
    elif isinstance(data, SignerDeclined):
        evidence = signer(data.signer_id)
        advance(evidence, "declined")
        evidence.declined_at = at
        evidence.ip, evidence.user_agent = event.actor.ip, event.actor.user_agent
    if isinstance(data, AgreementCompleted | AgreementEnded) and agreement.outcome is None:
        agreement.outcome = ENDINGS[event.type]
        agreement.outcome_reason = getattr(data, "reason", None)


def has_ended(agreement: TrackedAgreement) -> bool:
    """Created and ended: only then can the trail be ready, so only then is the rest of it read
    (most events of an agreement arrive before its end)."""
    return agreement.outcome is not None and agreement.created is not None


def ready_to_issue(agreement: TrackedAgreement, *, sent: bool, issued: bool,
                   signers: Mapping[str, SignerEvidence]) -> bool:
    """The trail holds everything the receipt should cover, and no receipt exists yet.

    Only a sent agreement can end, and a signer acts only once invited, so the trail waits for
    the creation, the sending, the ending, and (for a completion) every signer's invitation and
    signature, (for a decline) the decliner's invitation and decline. Events arrive in any
    order; issuing on the ending alone would leave a late ``agreement.sent`` outside the
    receipt."""
    # has_ended(), spelled out so that the type checker knows `created` is set below.
    if agreement.outcome is None or agreement.created is None or issued or not sent:
        return False
    if agreement.outcome == "declined":
        # A decline ends the agreement only through a signer's decline: wait for its entry so
        # the receipt names who declined and from where.
        return any(e.status == "declined" and e.invited_at is not None for e in signers.values())
    if agreement.outcome != "completed":
        return True
    return all(
        (e := signers.get(s["id"])) is not None and e.signature is not None
        and e.invited_at is not None
        for s in agreement.created["signers"]
    )
