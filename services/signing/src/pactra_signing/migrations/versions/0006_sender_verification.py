"""Abuse defence (issue 16): whether the sender's address is verified, when the workspace was
made (the new-workspace cap), the owner change applied last, and each signer's last reminder.

Revision ID: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("senders", sa.Column("email_verified", sa.Boolean, nullable=False,
                                       server_default=sa.false()))
    op.add_column("senders", sa.Column("workspace_created_at", TZ, nullable=True))
    op.add_column("senders", sa.Column("owner_as_of", TZ, nullable=True))
    op.add_column("signers", sa.Column("reminded_at", TZ, nullable=True))


def downgrade() -> None:
    op.drop_column("signers", "reminded_at")
    op.drop_column("senders", "owner_as_of")
    op.drop_column("senders", "workspace_created_at")
    op.drop_column("senders", "email_verified")
