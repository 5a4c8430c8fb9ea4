"""Test mode (issue 16): whether an agreement was made with a live or a test key.

Revision ID: 0101_livemode
"""

import sqlalchemy as sa
from alembic import op

revision = "0101_livemode"
down_revision = "0100_erasure"


def upgrade() -> None:
    # Every agreement made before test mode existed was live.
    op.add_column("agreements", sa.Column("livemode", sa.Boolean, nullable=False,
                                          server_default=sa.true()))


def downgrade() -> None:
    op.drop_column("agreements", "livemode")
