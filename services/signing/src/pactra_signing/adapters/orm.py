"""The signing service's tables (senders, agreements, signers and their fields, retention
policies) and their mapping onto the domain's plain classes ("Architecture Patterns with
Python", chapter 2): the domain never imports SQLAlchemy; SQLAlchemy learns the domain here.

The tables live on the platform's ``Base.metadata`` (migrations/env.py, and the erasure of a
workspace's rows, read them there). Importing this module maps the classes, once.
"""

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import relationship

from pactra_platform.db import Base

from ..domain.agreement import ENDED, Agreement, Field, Signer
from ..domain.workspace import RetentionPolicy, Sender

__all__ = ["ENDED", "Agreement", "Field", "RetentionPolicy", "Sender", "Signer"]

metadata = Base.metadata

senders = Table(
    "senders", metadata,
    Column("workspace_id", String(40), primary_key=True),
    Column("workspace_name", String(200), nullable=False),
    Column("name", String(200), nullable=False),
    Column("email", String(254), nullable=False),
    Column("email_verified", Boolean, nullable=False, default=False, server_default="false"),
    Column("workspace_created_at", DateTime, nullable=True),
    Column("owner_as_of", DateTime, nullable=True),
)

agreements = Table(
    "agreements", metadata,
    Column("id", String(40), primary_key=True),
    Column("workspace_id", String(40), nullable=False),
    Column("title", String(300), nullable=False),
    Column("document_id", String(40), nullable=False),
    Column("document_sha256", String(64), nullable=False),
    Column("document_pages", Integer, nullable=False),
    Column("document_page_sizes", JSONB, nullable=True),
    Column("message", Text, nullable=True),
    Column("signing_order", String(20), nullable=False),
    Column("status", String(20), nullable=False, default="draft"),
    Column("sender_name", String(200), nullable=False),
    Column("sender_email", String(254), nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("sent_at", DateTime, nullable=True),
    Column("completed_at", DateTime, nullable=True),
    Column("ended_at", DateTime, nullable=True),
    Column("end_reason", Text, nullable=True),
    Column("evidence_status", String(20), nullable=False, default="none"),
    Column("evidence_reason", Text, nullable=True),
    Column("receipt_id", String(40), nullable=True),
    Column("version", Integer, nullable=False, default=0, server_default="0"),
    Column("metadata", JSONB, nullable=False, default=dict),
    Column("livemode", Boolean, nullable=False, default=True, server_default=true()),
    Index("ix_agreements_workspace_created", "workspace_id", "created_at"),
    Index("ix_agreements_expiring", "expires_at", postgresql_where="status = 'sent'"),
    # The daily retention job's look-up (service_layer/retention.py).
    Index("ix_agreements_workspace_ended", "workspace_id", "ended_at",
          postgresql_where="ended_at IS NOT NULL"),
)

signers = Table(
    "signers", metadata,
    Column("id", String(40), primary_key=True),
    Column("agreement_id", String(40), ForeignKey("agreements.id", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("email", String(254), nullable=False),
    Column("order", Integer, nullable=False),
    Column("status", String(20), nullable=False, default="pending"),
    Column("invited_at", DateTime, nullable=True),
    Column("viewed_at", DateTime, nullable=True),
    Column("signed_at", DateTime, nullable=True),
    Column("declined_at", DateTime, nullable=True),
    Column("decline_reason", Text, nullable=True),
    Column("reminded_at", DateTime, nullable=True),
    Column("delivery_status", String(20), nullable=True),
    Column("consent_at", DateTime, nullable=True),
    Column("token_hash", String(64), nullable=True, unique=True),
    Column("token_sealed", LargeBinary, nullable=True),
    Column("signature", JSONB, nullable=True),
    Column("ip", String(64), nullable=True),
    Column("user_agent", String(500), nullable=True),
)

fields = Table(
    "fields", metadata,
    Column("id", String(40), primary_key=True),
    Column("agreement_id", String(40), ForeignKey("agreements.id", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("signer_id", String(40), nullable=False),
    Column("position", Integer, nullable=False),
    Column("type", String(20), nullable=False),
    Column("page", Integer, nullable=False),
    Column("x", Float, nullable=False),
    Column("y", Float, nullable=False),
    Column("width", Float, nullable=False),
    Column("height", Float, nullable=False),
    Column("required", Boolean, nullable=False, default=True),
    Column("value", JSONB, nullable=True),
)

retention_policies = Table(
    "retention_policies", metadata,
    Column("workspace_id", String(40), primary_key=True),
    Column("retention_days", Integer, nullable=True),
    Column("as_of", DateTime, nullable=False),
)


def _map() -> None:
    mapper = Base.registry.map_imperatively
    mapper(Sender, senders)
    mapper(RetentionPolicy, retention_policies)
    mapper(Field, fields)
    mapper(Signer, signers)
    mapper(Agreement, agreements, properties={
        # "metadata" is the column; the attribute cannot be (declarative classes reserve it).
        "metadata_": agreements.c.metadata,
        # The README's glossary calls it the outcome's reason; the column keeps its old name.
        "outcome_reason": agreements.c.end_reason,
        "signers": relationship(Signer, order_by=[signers.c.order, signers.c.id], lazy="selectin",
                                cascade="all, delete-orphan"),
        "fields": relationship(Field, order_by=fields.c.position, lazy="selectin",
                               cascade="all, delete-orphan"),
    })


_map()
