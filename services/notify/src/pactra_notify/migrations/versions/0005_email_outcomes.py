"""Bounces and complaints: each delivery keeps its signer and what the provider reported
after sending (``outcome``), found by the provider's message id; the provider's webhook
messages already acted on are kept to refuse replays.

Revision ID: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("signer_id", sa.String(40)))
    op.add_column("deliveries", sa.Column("outcome", sa.String(20)))
    op.add_column("deliveries", sa.Column("outcome_at", sa.DateTime(timezone=True)))
    op.create_index("ix_deliveries_provider_message_id", "deliveries", ["provider_message_id"])
    op.create_table(
        "provider_events",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("type", sa.String(60), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_provider_events_received_at", "provider_events", ["received_at"])


def downgrade() -> None:
    op.drop_table("provider_events")
    op.drop_index("ix_deliveries_provider_message_id", "deliveries")
    for column in ("outcome_at", "outcome", "signer_id"):
        op.drop_column("deliveries", column)
