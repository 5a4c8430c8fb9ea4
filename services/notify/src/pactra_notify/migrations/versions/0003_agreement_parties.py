"""The parties of each agreement as signing announced them: whom a receipt may be emailed to.

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "agreement_parties",
        sa.Column("agreement_id", sa.String(40), primary_key=True),
        sa.Column("party", sa.String(40), primary_key=True),
        sa.Column("email", sa.String(254), primary_key=True),
        sa.Column("workspace_id", sa.String(40)),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("agreement_parties")
