"""The notify service's tables (SQLAlchemy); the repositories map them to the domain's records."""

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, LargeBinary, String, Text, UniqueConstraint, false
from sqlalchemy.dialects.postgresql import JSONB
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


class EmailDelivery(Base):
    """One email for one event and recipient. Written and committed before the email is sent,
    marked ``sent`` right after, so a retried event skips what already left."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "recipient", name="uq_deliveries_event_recipient"),
        # A provider's report (a Resend bounce) names its message id: it finds the delivery.
        Index("ix_deliveries_provider_message_id", "provider_message_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(254))
    kind: Mapped[str] = mapped_column(String(40))
    agreement_id: Mapped[str | None] = mapped_column(String(40), index=True)
    workspace_id: Mapped[str | None] = mapped_column(String(40))
    # pending -> sent, or failed (the provider refused this recipient for good), or
    # suppressed (a test-mode email to an address that is not the workspace's verified one).
    status: Mapped[str] = mapped_column(String(20), default="pending")
    # Resend's email id, or our own Message-ID for SMTP.
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The signer the email was for (None for the sender's, and for rows made before it was kept).
    signer_id: Mapped[str | None] = mapped_column(String(40))
    # What the provider reported after sending: bounced or complained (None: nothing). Kept
    # apart from ``status``, which says whether it still has to be sent.
    outcome: Mapped[str | None] = mapped_column(String(20))
    outcome_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ProviderEvent(Base):
    """A provider's webhook message already acted on (Resend's ``svix-id``): the same message
    presented again is a replay, refused. Kept for a few days, longer than the provider
    retries one message."""

    __tablename__ = "provider_events"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    type: Mapped[str] = mapped_column(String(60))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class AgreementParty(Base):
    """Someone signing named for an agreement (``agreement.created``, ``signer.invited``): a
    signer (``party`` is the signer id) or its sender (``party`` is ``sender``). The ending
    emails go only to addresses recorded here, whatever a ``receipt.issued`` lists. Every
    address signing ever gave a party is kept (an email corrected later stays valid too)."""

    __tablename__ = "agreement_parties"

    agreement_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    party: Mapped[str] = mapped_column(String(40), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    workspace_id: Mapped[str | None] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WorkspaceOwner(Base):
    """A workspace's owner as ``workspace.created`` named them: whom notify tells when one of
    the workspace's webhook endpoints is disabled."""

    __tablename__ = "workspace_owners"

    workspace_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    email: Mapped[str] = mapped_column(String(254))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Whether the owner confirmed ``email`` (account.updated): then it is the one address
    # test-mode email may go to (domain/test_mode.py).
    email_verified: Mapped[bool] = mapped_column(default=False, server_default=false())


class WebhookEndpoint(Base):
    """A workspace's webhook endpoint. Its secret is kept sealed (AES-GCM under the
    webhook-secret key, bound to the endpoint id); after a rotation the previous one keeps
    signing beside it until ``previous_secret_expires_at``."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (Index("ix_webhook_endpoints_workspace", "workspace_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(40))
    url: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    events: Mapped[list] = mapped_column(JSONB)
    enabled: Mapped[bool] = mapped_column(default=True)
    # Why it was disabled by Pactra (410, failing for days); None when enabled or by the owner.
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    secret_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    previous_secret_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The first failure since the last success: five days of it disable the endpoint.
    failing_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WebhookDelivery(Base):
    """One event for one endpoint: its body (signed afresh at each attempt), its state and when
    it is next due. The scheduler claims due rows with ``FOR UPDATE SKIP LOCKED``; a claimed
    row carries a lease (``lease_until``) so that a worker killed mid-send lets it be tried
    again, once the lease ends, as the next attempt rather than forever."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_deliveries_endpoint_event"),
        Index("ix_webhook_deliveries_due", "next_attempt_at",
              postgresql_where="status IN ('pending', 'failed')"),
        Index("ix_webhook_deliveries_endpoint", "endpoint_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    endpoint_id: Mapped[str] = mapped_column(String(40))
    workspace_id: Mapped[str] = mapped_column(String(40))
    event_id: Mapped[str] = mapped_column(String(64))  # the webhook-id, the same on every retry
    type: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    # pending (not tried yet) -> delivered | failed (will retry) -> ... | gave_up
    status: Mapped[str] = mapped_column(String(20), default="pending")
    # Attempts in the current run (a replay starts a new run): the retry schedule's index.
    tries: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookAttempt(Base):
    """One attempt of a delivery, written before the request leaves (``finished`` false) and
    completed with its outcome: a crash in between leaves it visible, as interrupted."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_delivery", "delivery_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished: Mapped[bool] = mapped_column(default=False)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    # At most 64 KiB of the answer were read; this keeps its start for the log.
    response_body: Mapped[str | None] = mapped_column(Text)
