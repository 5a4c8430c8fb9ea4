"""The notify service's tables."""

from datetime import datetime

from sqlalchemy import DateTime, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pactra_platform.db import Base


class SignerLink(Base):
    """A signer's link as the last ``signer.invited``/``signer.reminded`` carried it: still
    sealed (only opened to render an email), kept so the ending emails can link the signer's
    copy of the evidence."""

    __tablename__ = "signer_links"

    agreement_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    signer_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str | None] = mapped_column(String(40))
    sealed: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Delivery(Base):
    """One email for one event and recipient. Written and committed before the email is sent,
    marked ``sent`` right after, so a retried event skips what already left."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("event_id", "recipient", name="uq_deliveries_event_recipient"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(254))
    kind: Mapped[str] = mapped_column(String(40))
    agreement_id: Mapped[str | None] = mapped_column(String(40), index=True)
    workspace_id: Mapped[str | None] = mapped_column(String(40))
    # pending -> sent, or failed (the provider refused this recipient for good).
    status: Mapped[str] = mapped_column(String(20), default="pending")
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
