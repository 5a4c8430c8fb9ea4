"""Documents record each page's size in points (signing places fields within it).

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    # Nullable: documents uploaded before this revision have no recorded sizes.
    op.add_column("documents", sa.Column("page_sizes", JSONB, nullable=True))


def downgrade() -> None:
    op.drop_column("documents", "page_sizes")
