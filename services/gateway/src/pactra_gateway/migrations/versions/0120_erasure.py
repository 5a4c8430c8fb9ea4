"""Erasure (issue 15): deleted-workspace markers, per-workspace data keys
(pactra_platform.erasure) and the workspace deletions the saga tracks (deletions.py).

Revision ID: 0120_erasure
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from pactra_platform.erasure import create_erasure_tables, drop_erasure_tables

revision = "0120_erasure"
down_revision = "0110"


def upgrade() -> None:
    create_erasure_tables(op)
    op.create_table(
        "workspace_deletions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("workspace_id", sa.String(40), nullable=True),
        sa.Column("workspace_sha256", sa.String(64), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirm_by", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True)),
        sa.Column("purge_at", sa.DateTime(timezone=True)),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
        sa.Column("cancelled_at", sa.DateTime(timezone=True)),
        sa.Column("services", JSONB, nullable=False),
        sa.Column("counts", JSONB, nullable=False),
        sa.Column("revoked_key_ids", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
    )
    op.create_index("ix_workspace_deletions_workspace_id", "workspace_deletions", ["workspace_id"])
    op.create_index("ix_workspace_deletions_purge_at", "workspace_deletions", ["purge_at"])


def downgrade() -> None:
    op.drop_table("workspace_deletions")
    drop_erasure_tables(op)
