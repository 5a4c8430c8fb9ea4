"""The notify service's outbox and inbox.

Revision ID: 0001
"""

from alembic import op

from pactra_platform.messaging import create_messaging_tables

revision = "0001"
down_revision = None


def upgrade() -> None:
    create_messaging_tables(op)


def downgrade() -> None:
    op.drop_table("inbox")
    op.drop_table("outbox")
