"""Retention (issue 15, item 4): each workspace's retention_days as signing learnt it, and an
index for the daily look-up of ended agreements.

Revision ID: 0110_retention
"""

import sqlalchemy as sa
from alembic import op

revision = "0110_retention"
down_revision = "0101_livemode"


def upgrade() -> None:
    op.create_table(
        "retention_policies",
        sa.Column("workspace_id", sa.String(40), primary_key=True),
        sa.Column("retention_days", sa.Integer, nullable=True),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_agreements_workspace_ended", "agreements", ["workspace_id", "ended_at"],
                    postgresql_where=sa.text("ended_at IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ix_agreements_workspace_ended", table_name="agreements")
    op.drop_table("retention_policies")
