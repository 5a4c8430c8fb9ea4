"""Each agreement's version: it grows with every event about the agreement (events.md,
``agreement_version``; webhooks show it as ``sequence``).

Revision ID: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.add_column("agreements", sa.Column("version", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    op.drop_column("agreements", "version")
