"""Agreements, audit entries, signer evidence, receipts, evidence jobs, signing keys, sealing
certificates; outbox and inbox.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from pactra_platform.messaging import create_messaging_tables

revision = "0001"
down_revision = None
TZ = sa.DateTime(timezone=True)


def _agreement_fk() -> sa.Column:
    return sa.Column("agreement_id", sa.String(40),
                     sa.ForeignKey("receipts_agreements.id", ondelete="CASCADE"), primary_key=True)


def upgrade() -> None:
    create_messaging_tables(op)
    op.create_table(
        "receipts_agreements",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("created", JSONB, nullable=True),
        sa.Column("outcome", sa.String(20), nullable=True),
        sa.Column("ending_reason", sa.String(2000), nullable=True),
        sa.Column("entries", sa.Integer, nullable=False),
        sa.Column("head", sa.String(64), nullable=False),
        sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_receipts_agreements_workspace_id", "receipts_agreements", ["workspace_id"])
    op.create_table(
        "receipts_audit_entries",
        _agreement_fk(),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("entry", JSONB, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "receipts_signer_evidence",
        _agreement_fk(),
        sa.Column("signer_id", sa.String(40), primary_key=True),
        sa.Column("status", sa.String(20), nullable=False),
        *[sa.Column(name, sa.String(30), nullable=True) for name in (
            "invited_at", "viewed_at", "consent_at", "signed_at", "declined_at")],
        sa.Column("ip", sa.String(100), nullable=True),
        sa.Column("user_agent", sa.String(1000), nullable=True),
        sa.Column("document_sha256", sa.String(64), nullable=True),
        sa.Column("signature", JSONB, nullable=True),
        sa.Column("field_values", JSONB, nullable=True),
    )
    op.create_table(
        "receipts_issued",
        _agreement_fk(),
        sa.Column("id", sa.String(40), nullable=False, unique=True),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("body", JSONB, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("signed_pdf", sa.String(200), nullable=True),
        sa.Column("certificate_pdf", sa.String(200), nullable=True),
        sa.Column("issued_at", TZ, server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        "receipts_evidence_jobs",
        _agreement_fk(),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.Column("reason", sa.String(2000), nullable=True),
        sa.Column("tsa_failing_since", TZ, nullable=True),
        sa.Column("correlation_id", sa.String(100), nullable=True),
        sa.Column("causation_id", sa.String(100), nullable=True),
        sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_receipts_evidence_jobs_next", "receipts_evidence_jobs", ["next_attempt_at"])
    op.create_table(
        "receipts_sealing_certificates",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("certificate_pem", sa.Text, nullable=False),
        sa.Column("chain_pem", sa.Text, nullable=False),
        sa.Column("key_sealed", sa.LargeBinary, nullable=False),
        sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.Column("retired_at", TZ, nullable=True),
    )
    op.create_index("uq_receipts_sealing_certificates_one_active", "receipts_sealing_certificates",
                    ["status"], unique=True, postgresql_where=sa.text("status = 'active'"))
    op.create_table(
        "receipts_signing_keys",
        sa.Column("kid", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("public_x", sa.String(64), nullable=False),
        sa.Column("private_sealed", sa.LargeBinary, nullable=False),
        sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.Column("retired_at", TZ, nullable=True),
    )
    # At most one active key, whatever races: a second bootstrap's insert fails here.
    op.create_index("uq_receipts_signing_keys_one_active", "receipts_signing_keys", ["status"], unique=True,
                    postgresql_where=sa.text("status = 'active'"))


def downgrade() -> None:
    for table in ("receipts_sealing_certificates", "receipts_signing_keys", "receipts_evidence_jobs",
                  "receipts_issued",
                  "receipts_signer_evidence", "receipts_audit_entries", "receipts_agreements",
                  "inbox", "outbox"):
        op.drop_table(table)
