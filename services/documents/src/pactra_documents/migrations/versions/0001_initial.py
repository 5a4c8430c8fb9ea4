"""Documents, agreement uses; outbox and inbox.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

from pactra_platform.messaging import create_messaging_tables

revision = "0001"
down_revision = None
TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("pages", sa.Integer, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_index("ix_documents_workspace_created", "documents", ["workspace_id", "created_at"])
    op.create_table(
        "agreement_uses",
        sa.Column("agreement_id", sa.String(40), primary_key=True),
        sa.Column("workspace_id", sa.String(40)),
        sa.Column("document_id", sa.String(40)),
        sa.Column("ended", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_agreement_uses_document", "agreement_uses", ["document_id"])
    create_messaging_tables(op)


def downgrade() -> None:
    for table in ("inbox", "outbox", "agreement_uses", "documents"):
        op.drop_table(table)
