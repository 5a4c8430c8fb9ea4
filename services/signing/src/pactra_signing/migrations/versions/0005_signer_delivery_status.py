"""Each signer's ``delivery_status``: bounced or complained, as notify reported an email to
them came back (``signer.bounced``, ``signer.complained``); NULL while nothing was reported.

Revision ID: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.add_column("signers", sa.Column("delivery_status", sa.String(20)))


def downgrade() -> None:
    op.drop_column("signers", "delivery_status")
