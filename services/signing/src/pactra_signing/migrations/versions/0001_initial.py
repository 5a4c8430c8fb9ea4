"""The signing service's senders, outbox and inbox.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

from pactra_platform.messaging import create_messaging_tables

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "senders",
        sa.Column("workspace_id", sa.String(40), primary_key=True),
        sa.Column("workspace_name", sa.String(200), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
    )
    create_messaging_tables(op)


def downgrade() -> None:
    op.drop_table("inbox")
    op.drop_table("outbox")
    op.drop_table("senders")
