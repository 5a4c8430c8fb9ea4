"""Plans, usage and statements (issue 16): usage counters per workspace and period, the
records that make counting idempotent (and hold reservations), agreements' signer counts (what
a send reserves), frozen statements.

Revision ID: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "usage_counters",
        sa.Column("workspace_id", sa.String(40), primary_key=True),
        sa.Column("period", sa.String(7), primary_key=True),
        sa.Column("metric", sa.String(40), primary_key=True),
        sa.Column("used", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_table(
        "usage_records",
        sa.Column("source_id", sa.String(200), primary_key=True),
        sa.Column("metric", sa.String(40), primary_key=True),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("quantity", sa.BigInteger, nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_index("ix_usage_records_reserved", "usage_records", ["created_at"],
                    postgresql_where=sa.text("state = 'reserved'"))
    op.create_table(
        "agreement_signers",
        sa.Column("agreement_id", sa.String(40), primary_key=True),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("signers", sa.Integer, nullable=False),
    )
    op.create_table(
        "statements",
        sa.Column("workspace_id", sa.String(40), primary_key=True),
        sa.Column("period", sa.String(7), primary_key=True),
        sa.Column("number", sa.String(40), nullable=False, unique=True),
        sa.Column("body", JSONB, nullable=False),
        sa.Column("total_cents", sa.BigInteger, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("statements")
    op.drop_table("agreement_signers")
    op.drop_index("ix_usage_records_reserved", table_name="usage_records")
    op.drop_table("usage_records")
    op.drop_table("usage_counters")
