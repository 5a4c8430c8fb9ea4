"""Erasure (issue 15): deleted-workspace markers and per-workspace data keys
(pactra_platform.erasure).

Revision ID: 0100_erasure
"""

from alembic import op

from pactra_platform.erasure import create_erasure_tables, drop_erasure_tables

revision = "0100_erasure"
down_revision = "0003"


def upgrade() -> None:
    create_erasure_tables(op)


def downgrade() -> None:
    drop_erasure_tables(op)
