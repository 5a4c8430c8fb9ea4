"""Agreements keep their document's page sizes (fields must lie within their page).

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    # Nullable: agreements made before this revision have no recorded sizes.
    op.add_column("agreements", sa.Column("document_page_sizes", JSONB, nullable=True))


def downgrade() -> None:
    op.drop_column("agreements", "document_page_sizes")
