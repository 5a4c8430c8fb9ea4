"""The signing service's tables: senders, agreements, signers and their fields."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, true
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pactra_platform.db import Base

ENDED = ("completed", "declined", "voided", "expired")


class Sender(Base):
    """A workspace's owner as signing knows it (from ``workspace.*`` events): every agreement
    of the workspace is sent in this name, and completion emails go to this address."""

    __tablename__ = "senders"

    workspace_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_name: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    # Once the gateway said the owner's address is verified (an ``account.updated`` event, or
    # its answer at send time), it stays so: an address is confirmed once, and a new one
    # becomes the owner's only confirmed. Until then agreements go only to the owner.
    email_verified: Mapped[bool] = mapped_column(default=False, server_default="false")
    # When the workspace was made (``workspace.created``): its first 7 days have a daily cap on
    # signers invited. None for senders recorded before it was kept: no cap.
    workspace_created_at: Mapped[datetime | None] = mapped_column(default=None)
    # The time of the owner change applied last (its event's occurred_at): an older
    # ``account.updated`` that arrives late never overwrites a newer name or email.
    owner_as_of: Mapped[datetime | None] = mapped_column(default=None)


class Agreement(Base):
    __tablename__ = "agreements"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    document_id: Mapped[str] = mapped_column(String(40))
    document_sha256: Mapped[str] = mapped_column(String(64))
    document_pages: Mapped[int]
    # [[width, height], ...] in PDF points, as the documents service measured the pages; None
    # for an agreement made before sizes were known. The signer page places fields with it.
    document_page_sizes: Mapped[list | None] = mapped_column(JSONB)
    message: Mapped[str | None] = mapped_column(Text)
    signing_order: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    sender_name: Mapped[str] = mapped_column(String(200))
    sender_email: Mapped[str] = mapped_column(String(254))
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(Text)
    evidence_status: Mapped[str] = mapped_column(String(20), default="none")
    evidence_reason: Mapped[str | None] = mapped_column(Text)
    receipt_id: Mapped[str | None] = mapped_column(String(40))
    # Grows by one with each event about the agreement (``Context.event``): the
    # ``agreement_version`` those events carry, which webhooks show as ``sequence``.
    version: Mapped[int] = mapped_column(default=0, server_default="0")
    metadata_: Mapped[dict] = mapped_column("metadata", JSONB, default=dict)
    # False when made with a test key (api.md, "Test mode"): seen only by test keys, free,
    # its evidence stamped and its receipt saying so.
    livemode: Mapped[bool] = mapped_column(default=True, server_default=true())

    signers: Mapped[list["Signer"]] = relationship(
        back_populates="agreement", order_by="[Signer.order, Signer.id]", lazy="selectin",
        cascade="all, delete-orphan")
    fields: Mapped[list["Field"]] = relationship(
        back_populates="agreement", order_by="Field.position", lazy="selectin",
        cascade="all, delete-orphan")

    __table_args__ = (
        Index("ix_agreements_workspace_created", "workspace_id", "created_at"),
        Index("ix_agreements_expiring", "expires_at", postgresql_where="status = 'sent'"),
        # The daily retention job's look-up (retention.py).
        Index("ix_agreements_workspace_ended", "workspace_id", "ended_at",
              postgresql_where="ended_at IS NOT NULL"),
    )

    @property
    def ended(self) -> bool:
        return self.status in ENDED


class Signer(Base):
    __tablename__ = "signers"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    agreement_id: Mapped[str] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    order: Mapped[int]
    status: Mapped[str] = mapped_column(String(20), default="pending")
    invited_at: Mapped[datetime | None]
    viewed_at: Mapped[datetime | None]
    signed_at: Mapped[datetime | None]
    declined_at: Mapped[datetime | None]
    decline_reason: Mapped[str | None] = mapped_column(Text)
    # The last reminder (not the invitation): reminders are at most one an hour per signer.
    reminded_at: Mapped[datetime | None] = mapped_column(default=None)
    # What the email provider reported of the last email to them that came back (notify's
    # ``signer.bounced``/``signer.complained``): bounced or complained; None while nothing was.
    delivery_status: Mapped[str | None] = mapped_column(String(20))
    consent_at: Mapped[datetime | None]
    # The token itself is never stored: its SHA-256 finds the signer, and an AES-GCM copy
    # (under a key derived from the master key) lets reminders resend the same link.
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    signature: Mapped[dict | None] = mapped_column(JSONB)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(500))

    agreement: Mapped[Agreement] = relationship(back_populates="signers")


class Field(Base):
    __tablename__ = "fields"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    agreement_id: Mapped[str] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"), index=True)
    signer_id: Mapped[str] = mapped_column(String(40))
    position: Mapped[int]
    type: Mapped[str] = mapped_column(String(20))
    page: Mapped[int]
    x: Mapped[float]
    y: Mapped[float]
    width: Mapped[float]
    height: Mapped[float]
    required: Mapped[bool] = mapped_column(default=True)
    value: Mapped[str | bool | None] = mapped_column(JSONB)

    agreement: Mapped[Agreement] = relationship(back_populates="fields")


class RetentionPolicy(Base):
    """A workspace's ``retention_days`` as ``workspace.updated`` last set it (None: keep
    everything): ended agreements older than that are purged daily (retention.py). Kept apart
    from the sender so that a setting that overtakes the workspace's creation is not lost."""

    __tablename__ = "retention_policies"

    workspace_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    retention_days: Mapped[int | None]
    # The occurred_at of the event applied: an older update arriving late changes nothing.
    as_of: Mapped[datetime]
