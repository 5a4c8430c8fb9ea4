"""The receipts service's tables: agreements as the trail sees them, their audit entries, each
signer's evidence, issued receipts, evidence still due, the receipt-signing keys and the
sealing certificates."""

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String, Text, func, true
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from pactra_platform.db import Base

from ..domain.trail import GENESIS


class TrackedAgreement(Base):
    """One row per agreement, made by whichever of its events arrives first; its row lock
    serializes appends to the agreement's trail."""

    __tablename__ = "receipts_agreements"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(40), index=True)
    # Known once agreement.created arrived (events may come in any order).
    created: Mapped[dict | None] = mapped_column(JSONB, default=None)
    outcome: Mapped[str | None] = mapped_column(String(20), default=None)
    # The README's glossary calls it the outcome's reason; the column keeps its old name.
    outcome_reason: Mapped[str | None] = mapped_column("ending_reason", String(2000), default=None)
    entries: Mapped[int] = mapped_column(Integer, default=0)
    head: Mapped[str] = mapped_column(String(64), default=GENESIS)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # False for a test-mode agreement (api.md, "Test mode"), from whichever of its events came
    # first (every agreement event carries it): only test keys see it; its evidence is stamped.
    livemode: Mapped[bool] = mapped_column(default=True, server_default=true())


class AuditEntry(Base):
    __tablename__ = "receipts_audit_entries"

    agreement_id: Mapped[str] = mapped_column(
        ForeignKey("receipts_agreements.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    entry: Mapped[dict] = mapped_column(JSONB)
    hash: Mapped[str] = mapped_column(String(64))


class SignerEvidence(Base):
    """What the receipt and the stamped PDF need about one signer, raw signature included."""

    __tablename__ = "receipts_signer_evidence"

    agreement_id: Mapped[str] = mapped_column(
        ForeignKey("receipts_agreements.id", ondelete="CASCADE"), primary_key=True)
    signer_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    invited_at: Mapped[str | None] = mapped_column(String(30), default=None)
    viewed_at: Mapped[str | None] = mapped_column(String(30), default=None)
    consent_at: Mapped[str | None] = mapped_column(String(30), default=None)
    signed_at: Mapped[str | None] = mapped_column(String(30), default=None)
    declined_at: Mapped[str | None] = mapped_column(String(30), default=None)
    ip: Mapped[str | None] = mapped_column(String(100), default=None)
    user_agent: Mapped[str | None] = mapped_column(String(1000), default=None)
    document_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    signature: Mapped[dict | None] = mapped_column(JSONB, default=None)
    field_values: Mapped[dict | None] = mapped_column(JSONB, default=None)


class Receipt(Base):
    __tablename__ = "receipts_issued"

    agreement_id: Mapped[str] = mapped_column(
        ForeignKey("receipts_agreements.id", ondelete="CASCADE"), primary_key=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    workspace_id: Mapped[str] = mapped_column(String(40))
    body: Mapped[dict] = mapped_column(JSONB)
    sha256: Mapped[str] = mapped_column(String(64))
    signed_pdf: Mapped[str | None] = mapped_column(String(200), default=None)
    certificate_pdf: Mapped[str | None] = mapped_column(String(200), default=None)
    issued_at: Mapped[datetime] = mapped_column(server_default=func.now())


class EvidenceJob(Base):
    """An ended agreement whose evidence is due: claimed by the issuer with ``FOR UPDATE SKIP
    LOCKED``, retried with back-off, deleted once the receipt is issued.

    ``attempts`` counts attempts started (a TSA outage within its grace period excepted), each
    recorded in its own committed transaction before the work: an attempt that takes its
    process down still counts and still pushes ``next_attempt_at`` back. After
    ``PACTRA_EVIDENCE_MAX_ATTEMPTS`` the job stays ``failed`` with ``next_attempt_at`` NULL
    until an operator retries it (``pactra-receipts retry-evidence``)."""

    __tablename__ = "receipts_evidence_jobs"

    agreement_id: Mapped[str] = mapped_column(
        ForeignKey("receipts_agreements.id", ondelete="CASCADE"), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="issuing")  # issuing | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # NULL: not retried by itself any more (see above).
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                              server_default=func.now())
    # Set when an attempt starts, cleared when it ends either way: still set when the job is
    # claimed again means the last attempt never finished (its process died).
    attempt_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # Users see this (evidence_reasons.py): a code and a sentence, never an exception's text.
    reason: Mapped[str | None] = mapped_column(String(2000), default=None)
    # When the TSA first failed for this agreement: the grace period runs from here.
    tsa_failing_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    correlation_id: Mapped[str | None] = mapped_column(String(100), default=None)
    causation_id: Mapped[str | None] = mapped_column(String(100), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SealingCertificate(Base):
    """A generated sealing certificate and its chain; the key sealed under "sealing-keys"."""

    __tablename__ = "receipts_sealing_certificates"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the certificate
    status: Mapped[str] = mapped_column(String(20))  # active | retired
    certificate_pem: Mapped[str] = mapped_column(Text)
    chain_pem: Mapped[str] = mapped_column(Text)
    key_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class SigningKey(Base):
    __tablename__ = "receipts_signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(20))  # active | retired
    public_x: Mapped[str] = mapped_column(String(64))
    # The raw Ed25519 private key, sealed under the master key's "receipt-keys" purpose.
    private_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    retired_at: Mapped[datetime | None] = mapped_column(default=None)


class Tombstone(Base):
    """What survives of a receipt once its agreement was purged (deletion or retention,
    receipts.md): enough to recognise the receipt when it is presented, nothing about who
    signed what. Purged ``PACTRA_EVIDENCE_RETENTION_DAYS`` after ``issued_at``."""

    __tablename__ = "receipts_tombstones"

    receipt_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    agreement_id: Mapped[str] = mapped_column(String(40))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    # SHA-256 of the receipt's JCS form, signature included.
    receipt_sha256: Mapped[str] = mapped_column(String(64))
    audit_head: Mapped[str] = mapped_column(String(64))
