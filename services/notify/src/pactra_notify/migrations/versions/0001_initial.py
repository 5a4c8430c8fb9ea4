"""The notify service's signer links, deliveries, outbox and inbox.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

from pactra_platform.messaging import create_messaging_tables

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "signer_links",
        sa.Column("agreement_id", sa.String(40), primary_key=True),
        sa.Column("signer_id", sa.String(40), primary_key=True),
        sa.Column("workspace_id", sa.String(40)),
        sa.Column("sealed", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(40), nullable=False),
        sa.Column("recipient", sa.String(254), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("agreement_id", sa.String(40)),
        sa.Column("workspace_id", sa.String(40)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("provider_message_id", sa.String(200)),
        sa.Column("error", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("event_id", "recipient", name="uq_deliveries_event_recipient"),
    )
    op.create_index("ix_deliveries_agreement_id", "deliveries", ["agreement_id"])
    create_messaging_tables(op)


def downgrade() -> None:
    op.drop_table("inbox")
    op.drop_table("outbox")
    op.drop_table("deliveries")
    op.drop_table("signer_links")
