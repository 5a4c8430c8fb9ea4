"""The nonces of signed internal calls this service accepted (pactra_platform.nonces).

Revision ID: 0003
"""

from alembic import op

from pactra_platform.nonces import create_nonce_table

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    create_nonce_table(op)


def downgrade() -> None:
    op.drop_table("internal_nonces")
