"""Senders, agreements, signers, fields; outbox and inbox.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from pactra_platform.messaging import create_messaging_tables

revision = "0001"
down_revision = None
TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "senders",
        sa.Column("workspace_id", sa.String(40), primary_key=True),
        sa.Column("workspace_name", sa.String(200), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
    )
    op.create_table(
        "agreements",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("document_id", sa.String(40), nullable=False),
        sa.Column("document_sha256", sa.String(64), nullable=False),
        sa.Column("document_pages", sa.Integer, nullable=False),
        sa.Column("message", sa.Text),
        sa.Column("signing_order", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("sender_name", sa.String(200), nullable=False),
        sa.Column("sender_email", sa.String(254), nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("sent_at", TZ),
        sa.Column("completed_at", TZ),
        sa.Column("ended_at", TZ),
        sa.Column("end_reason", sa.Text),
        sa.Column("evidence_status", sa.String(20), nullable=False),
        sa.Column("evidence_reason", sa.Text),
        sa.Column("receipt_id", sa.String(40)),
        sa.Column("metadata", JSONB, nullable=False),
    )
    op.create_index("ix_agreements_workspace_created", "agreements", ["workspace_id", "created_at"])
    op.create_index("ix_agreements_expiring", "agreements", ["expires_at"],
                    postgresql_where="status = 'sent'")
    op.create_table(
        "signers",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("agreement_id", sa.String(40), sa.ForeignKey("agreements.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("order", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("invited_at", TZ),
        sa.Column("viewed_at", TZ),
        sa.Column("signed_at", TZ),
        sa.Column("declined_at", TZ),
        sa.Column("decline_reason", sa.Text),
        sa.Column("consent_at", TZ),
        sa.Column("token_hash", sa.String(64), unique=True),
        sa.Column("token_sealed", sa.LargeBinary),
        sa.Column("signature", JSONB),
        sa.Column("ip", sa.String(64)),
        sa.Column("user_agent", sa.String(500)),
    )
    op.create_index("ix_signers_agreement_id", "signers", ["agreement_id"])
    op.create_table(
        "fields",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("agreement_id", sa.String(40), sa.ForeignKey("agreements.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("signer_id", sa.String(40), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("page", sa.Integer, nullable=False),
        sa.Column("x", sa.Float, nullable=False),
        sa.Column("y", sa.Float, nullable=False),
        sa.Column("width", sa.Float, nullable=False),
        sa.Column("height", sa.Float, nullable=False),
        sa.Column("required", sa.Boolean, nullable=False),
        sa.Column("value", JSONB),
    )
    op.create_index("ix_fields_agreement_id", "fields", ["agreement_id"])
    create_messaging_tables(op)


def downgrade() -> None:
    for table in ("inbox", "outbox", "fields", "signers", "agreements", "senders"):
        op.drop_table(table)
