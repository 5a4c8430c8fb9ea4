"""The trail and the evidence jobs on a SQLAlchemy session (service_layer/unit_of_work.py
names what they offer).

Appends are serialized per agreement by locking its row ``FOR UPDATE``: concurrent consumers
of the same agreement queue behind each other, so ``seq`` and ``prev`` always form one chain.
"""

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from pactra_platform import erasure
from pactra_platform.messaging import notify_on_commit

from ..domain.trail import GENESIS
from .orm import AuditEntry, EvidenceJob, Receipt, SignerEvidence, TrackedAgreement
from .purging import ObjectDeleter, tombstone

# Marking evidence due wakes the issuers when the handler's transaction commits.
EVIDENCE_DUE_CHANNEL = "pactra_evidence_due"
# Issuing a receipt, or failing to, NOTIFYs this channel with the agreement id: requests
# waiting for that receipt (``Prefer: wait``) answer at once.
EVIDENCE_SETTLED_CHANNEL = "pactra_evidence_settled"


def entries_of(session: Session, agreement_id: str) -> list[dict[str, Any]]:
    rows = session.scalars(select(AuditEntry).where(AuditEntry.agreement_id == agreement_id)
                           .order_by(AuditEntry.seq))
    return [row.entry for row in rows]


class SqlTrails:
    """Agreements as their trails know them, their entries, their signers' evidence and
    their receipts."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def lock(self, agreement_id: str, workspace_id: str, livemode: bool = True) -> TrackedAgreement:
        """The agreement's row, made if absent, locked until the transaction ends.

        One statement: an upsert whose update changes nothing locks the row like ``FOR UPDATE``
        and returns it (the row is rewritten by the append anyway)."""
        inserted = insert(TrackedAgreement).values(
            id=agreement_id, workspace_id=workspace_id, entries=0, head=GENESIS, livemode=livemode)
        return self.session.scalars(
            inserted.on_conflict_do_update(index_elements=[TrackedAgreement.id],
                                           set_={"id": inserted.excluded.id})
            .returning(TrackedAgreement).execution_options(populate_existing=True)
        ).one()

    def locked(self, agreement_id: str) -> TrackedAgreement:
        """An agreement known to exist, locked until the transaction ends."""
        return self.session.scalars(
            select(TrackedAgreement).where(TrackedAgreement.id == agreement_id)
            .with_for_update().execution_options(populate_existing=True)).one()

    def add_entry(self, agreement_id: str, entry: dict[str, Any]) -> None:
        self.session.add(AuditEntry(agreement_id=agreement_id, seq=entry["seq"], type=entry["type"],
                                    entry=entry, hash=entry["hash"]))

    def signer(self, agreement_id: str, signer_id: str) -> SignerEvidence:
        evidence = self.session.get(SignerEvidence, (agreement_id, signer_id))
        if evidence is None:
            evidence = SignerEvidence(agreement_id=agreement_id, signer_id=signer_id, status="pending")
            self.session.add(evidence)
        return evidence

    def signers(self, agreement_id: str) -> dict[str, SignerEvidence]:
        rows = self.session.scalars(select(SignerEvidence)
                                    .where(SignerEvidence.agreement_id == agreement_id))
        return {row.signer_id: row for row in rows}

    def was_sent(self, agreement_id: str) -> bool:
        return self.session.scalar(
            select(AuditEntry.seq)
            .where(AuditEntry.agreement_id == agreement_id, AuditEntry.type == "agreement.sent")
            .limit(1)
        ) is not None

    def has_receipt(self, agreement_id: str) -> bool:
        return self.session.get(Receipt, agreement_id) is not None

    def add_receipt(self, agreement_id: str, workspace_id: str, body: dict[str, Any], sha256: str,
                    signed_pdf: str | None, certificate_pdf: str | None) -> None:
        self.session.add(Receipt(agreement_id=agreement_id, id=body["receipt_id"],
                                 workspace_id=workspace_id, body=body, sha256=sha256,
                                 signed_pdf=signed_pdf, certificate_pdf=certificate_pdf))

    def livemode_of(self, agreement_id: str) -> bool:
        tracked = self.session.get(TrackedAgreement, agreement_id)
        return tracked.livemode if tracked is not None else True

    def flush(self) -> None:
        self.session.flush()

    # Purging (api.md, "Deletion and retention").
    def of_workspace(self, workspace_id: str, agreement_id: str | None = None) -> list[str]:
        query = select(TrackedAgreement.id).where(TrackedAgreement.workspace_id == workspace_id)
        if agreement_id is not None:
            query = query.where(TrackedAgreement.id == agreement_id)
        return list(self.session.scalars(query))

    def purge(self, store: ObjectDeleter, agreement_ids: Iterable[str]) -> dict[str, int]:
        """Tombstone the receipts of ``agreement_ids`` and delete the rest of their evidence
        (rows in this transaction; objects at once: a failure to delete one leaves ciphertext
        whose key the caller shreds, or that no row names any more)."""
        ids = list(agreement_ids)
        counts = {"agreements": 0, "receipts_tombstoned": 0, "objects": 0}
        if not ids:
            return counts
        for receipt in self.session.scalars(select(Receipt).where(Receipt.agreement_id.in_(ids))):
            tombstone(self.session, receipt)
            counts["receipts_tombstoned"] += 1
        for agreement_id in ids:
            counts["objects"] += store.delete_prefix(f"{agreement_id}/")
        # The audit entries, signer evidence, receipt and evidence job go with it (ON DELETE CASCADE).
        counts["agreements"] = self.session.execute(
            delete(TrackedAgreement).where(TrackedAgreement.id.in_(ids))).rowcount
        return counts


class SqlErasure:
    """The platform's part of a workspace's purge, in this unit of work."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def begin(self, workspace_id: str) -> dict[str, int]:
        return erasure.begin_purge(self.session, workspace_id)

    def purge_rows(self, workspace_id: str) -> dict[str, int]:
        return erasure.purge_workspace_rows(self.session, workspace_id)

    def report(self, event: Any, service: str, counts: dict[str, int]) -> None:
        erasure.report_purged(self.session, event, service, counts)


class SqlEvidenceJobs:
    """Ended agreements whose evidence is due: claimed with ``FOR UPDATE SKIP LOCKED`` so
    issuers share them."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def mark_due(self, agreement_id: str, workspace_id: str, correlation_id: str | None,
                 causation_id: str | None) -> None:
        """Note (once) that the agreement's evidence is due; the issuers wake on commit."""
        self.session.execute(insert(EvidenceJob).values(
            agreement_id=agreement_id, workspace_id=workspace_id, status="issuing",
            attempts=0, correlation_id=correlation_id, causation_id=causation_id,
        ).on_conflict_do_nothing())
        notify_on_commit(self.session, EVIDENCE_DUE_CHANNEL)

    def claim_due(self) -> EvidenceJob | None:
        """The job due first that no other issuer holds, locked."""
        return self.session.scalars(
            select(EvidenceJob).where(EvidenceJob.next_attempt_at <= func.now())
            .order_by(EvidenceJob.next_attempt_at).limit(1).with_for_update(skip_locked=True)
        ).first()

    def claim(self, agreement_id: str) -> EvidenceJob | None:
        """That agreement's job, locked, unless gone or held by another issuer."""
        return self.session.scalars(
            select(EvidenceJob).where(EvidenceJob.agreement_id == agreement_id)
            .with_for_update(skip_locked=True)).first()

    def settle(self, job: EvidenceJob) -> None:
        """The job is done with (its receipt exists)."""
        self.session.delete(job)

    def retry(self, agreement_ids: list[str] | None) -> list[str]:
        """The failed jobs of ``agreement_ids`` (None: every job no longer retried by itself)
        due again, with a fresh count of attempts; the issuers wake on commit."""
        query = update(EvidenceJob).where(EvidenceJob.status == "failed")
        query = (query.where(EvidenceJob.agreement_id.in_(agreement_ids)) if agreement_ids is not None
                 else query.where(EvidenceJob.next_attempt_at.is_(None)))
        retried = list(self.session.scalars(query.values(
            status="issuing", attempts=0, next_attempt_at=func.now(), attempt_started_at=None,
        ).returning(EvidenceJob.agreement_id)))
        if retried:
            notify_on_commit(self.session, EVIDENCE_DUE_CHANNEL)
        return retried

    def failed(self) -> list[EvidenceJob]:
        return list(self.session.scalars(select(EvidenceJob).where(EvidenceJob.status == "failed")
                                         .order_by(EvidenceJob.created_at)))

