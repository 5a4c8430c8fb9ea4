"""Test mode (issue 16): whether a document was uploaded with a live or a test key.

Revision ID: 0101_livemode
"""

import sqlalchemy as sa
from alembic import op

revision = "0101_livemode"
down_revision = "0100_erasure"


def upgrade() -> None:
    # Every document uploaded before test mode existed was live.
    op.add_column("documents", sa.Column("livemode", sa.Boolean, nullable=False,
                                         server_default=sa.true()))


def downgrade() -> None:
    op.drop_column("documents", "livemode")
