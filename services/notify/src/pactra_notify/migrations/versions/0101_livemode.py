"""Test mode (issue 16): whether the workspace owner's address is verified, the one address
test-mode email may go to.

Revision ID: 0101_livemode
"""

import sqlalchemy as sa
from alembic import op

revision = "0101_livemode"
down_revision = "0100_erasure"


def upgrade() -> None:
    op.add_column("workspace_owners", sa.Column("email_verified", sa.Boolean, nullable=False,
                                                server_default=sa.false()))


def downgrade() -> None:
    op.drop_column("workspace_owners", "email_verified")
