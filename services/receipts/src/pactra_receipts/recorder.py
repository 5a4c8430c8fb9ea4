"""Appending events to an agreement's trail and keeping each signer's evidence, on a session.

Appends are serialized per agreement by locking its row ``FOR UPDATE``: concurrent consumers
of the same agreement queue behind each other, so ``seq`` and ``prev`` always form one chain.
"""

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from pactra_contracts.events import (
    AgreementCompleted,
    AgreementCreated,
    AgreementEnded,
    Event,
    SignerDeclined,
    SignerInvited,
    SignerSigned,
    SignerViewed,
)
from pactra_contracts.times import format_time

from .models import ENDINGS, AuditEntry, Receipt, SignerEvidence, TrackedAgreement
from .trail import GENESIS, actor_of, evidence_of, make_entry

SIGNER_PROGRESS = ("pending", "invited", "viewed", "signed", "declined")


def lock_agreement(session: Session, agreement_id: str, workspace_id: str,
                   livemode: bool = True) -> TrackedAgreement:
    """The agreement's row, made if absent, locked until the transaction ends.

    One statement: an upsert whose update changes nothing locks the row like ``FOR UPDATE``
    and returns it (the row is rewritten by the append anyway)."""
    inserted = insert(TrackedAgreement).values(
        id=agreement_id, workspace_id=workspace_id, entries=0, head=GENESIS, livemode=livemode)
    return session.scalars(
        inserted.on_conflict_do_update(index_elements=[TrackedAgreement.id],
                                       set_={"id": inserted.excluded.id})
        .returning(TrackedAgreement).execution_options(populate_existing=True)
    ).one()


def append(session: Session, agreement: TrackedAgreement, entry_type: str, at: str,
           actor: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """Chain a new entry onto the (locked) agreement's trail."""
    entry = make_entry(agreement.entries, entry_type, at, actor, data, agreement.head)
    session.add(AuditEntry(agreement_id=agreement.id, seq=entry["seq"], type=entry_type,
                           entry=entry, hash=entry["hash"]))
    agreement.entries += 1
    agreement.head = entry["hash"]
    return entry


def entries_of(session: Session, agreement_id: str) -> list[dict[str, Any]]:
    rows = session.scalars(select(AuditEntry).where(AuditEntry.agreement_id == agreement_id)
                           .order_by(AuditEntry.seq))
    return [row.entry for row in rows]


def _signer(session: Session, agreement_id: str, signer_id: str) -> SignerEvidence:
    evidence = session.get(SignerEvidence, (agreement_id, signer_id))
    if evidence is None:
        evidence = SignerEvidence(agreement_id=agreement_id, signer_id=signer_id, status="pending")
        session.add(evidence)
    return evidence


def _advance(evidence: SignerEvidence, status: str) -> None:
    """Statuses only move forward: a late view never undoes a signature."""
    if SIGNER_PROGRESS.index(status) > SIGNER_PROGRESS.index(evidence.status or "pending"):
        evidence.status = status


def record(session: Session, agreement: TrackedAgreement, event: Event) -> None:
    """Append ``event`` to the trail and note what it says about the agreement and its signers."""
    at = format_time(event.occurred_at)
    append(session, agreement, event.type, at, actor_of(event), evidence_of(event))
    data = event.payload()
    if isinstance(data, AgreementCreated):
        agreement.created = data.model_dump(mode="json")
        for signer in data.signers:
            _signer(session, agreement.id, signer.id)
    elif isinstance(data, SignerInvited):
        evidence = _signer(session, agreement.id, data.signer_id)
        if event.type == "signer.invited":
            # Not a reminder (same payload): the receipt waits for the invitation itself.
            evidence.invited_at = evidence.invited_at or at
        _advance(evidence, "invited")
    elif isinstance(data, SignerViewed):
        evidence = _signer(session, agreement.id, data.signer_id)
        evidence.viewed_at = evidence.viewed_at or at
        _advance(evidence, "viewed")
    elif isinstance(data, SignerSigned):
        evidence = _signer(session, agreement.id, data.signer_id)
        _advance(evidence, "signed")
        evidence.signed_at = at
        evidence.consent_at = format_time(data.consent_at)
        evidence.document_sha256 = data.document_sha256
        evidence.signature = data.signature.model_dump(mode="json")
        evidence.field_values = dict(data.field_values)
        evidence.ip, evidence.user_agent = event.actor.ip, event.actor.user_agent
    elif isinstance(data, SignerDeclined):
        evidence = _signer(session, agreement.id, data.signer_id)
        _advance(evidence, "declined")
        evidence.declined_at = at
        evidence.ip, evidence.user_agent = event.actor.ip, event.actor.user_agent
    if isinstance(data, AgreementCompleted | AgreementEnded) and agreement.outcome is None:
        agreement.outcome = ENDINGS[event.type]
        agreement.ending_reason = getattr(data, "reason", None)
    session.flush()


def signers_of(session: Session, agreement_id: str) -> dict[str, SignerEvidence]:
    rows = session.scalars(select(SignerEvidence).where(SignerEvidence.agreement_id == agreement_id))
    return {row.signer_id: row for row in rows}


def _sent(session: Session, agreement_id: str) -> bool:
    return session.scalar(
        select(AuditEntry.seq)
        .where(AuditEntry.agreement_id == agreement_id, AuditEntry.type == "agreement.sent")
        .limit(1)
    ) is not None


def ready_to_issue(session: Session, agreement: TrackedAgreement) -> bool:
    """The trail holds everything the receipt should cover, and no receipt exists yet.

    Only a sent agreement can end, and a signer acts only once invited, so the trail waits for
    the creation, the sending, the ending, and (for a completion) every signer's invitation and
    signature, (for a decline) the decliner's invitation and decline. Events arrive in any
    order; issuing on the ending alone would leave a late ``agreement.sent`` outside the
    receipt."""
    if agreement.outcome is None or agreement.created is None:
        return False
    if session.get(Receipt, agreement.id) is not None or not _sent(session, agreement.id):
        return False
    evidence = signers_of(session, agreement.id)
    if agreement.outcome == "declined":
        # A decline ends the agreement only through a signer's decline: wait for its entry so
        # the receipt names who declined and from where.
        return any(e.status == "declined" and e.invited_at is not None for e in evidence.values())
    if agreement.outcome != "completed":
        return True
    return all(
        (e := evidence.get(s["id"])) is not None and e.signature is not None
        and e.invited_at is not None
        for s in agreement.created["signers"]
    )
