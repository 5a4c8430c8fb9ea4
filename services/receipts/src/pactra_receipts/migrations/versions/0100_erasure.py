"""Erasure (issue 15): deleted-workspace markers and per-workspace data keys
(pactra_platform.erasure), and the tombstones of purged receipts.

Revision ID: 0100_erasure
"""

import sqlalchemy as sa
from alembic import op

from pactra_platform.erasure import create_erasure_tables, drop_erasure_tables

revision = "0100_erasure"
down_revision = "0003"


def upgrade() -> None:
    create_erasure_tables(op)
    op.create_table(
        "receipts_tombstones",
        sa.Column("receipt_id", sa.String(40), primary_key=True),
        sa.Column("agreement_id", sa.String(40), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("receipt_sha256", sa.String(64), nullable=False),
        sa.Column("audit_head", sa.String(64), nullable=False),
    )
    op.create_index("ix_receipts_tombstones_issued_at", "receipts_tombstones", ["issued_at"])


def downgrade() -> None:
    op.drop_table("receipts_tombstones")
    drop_erasure_tables(op)
