"""The ai service's workspace AI settings, outbox and inbox.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

from pactra_platform.messaging import create_messaging_tables

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "workspace_ai_settings",
        sa.Column("workspace_id", sa.String(40), primary_key=True),
        sa.Column("ai_enabled", sa.Boolean, nullable=False),
        sa.Column("ai_engine", sa.String(20), nullable=False),
        sa.Column("ai_auto_analyze", sa.Boolean, nullable=False),
    )
    create_messaging_tables(op)


def downgrade() -> None:
    op.drop_table("inbox")
    op.drop_table("outbox")
    op.drop_table("workspace_ai_settings")
