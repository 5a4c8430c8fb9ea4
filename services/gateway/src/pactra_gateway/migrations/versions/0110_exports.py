"""Exports (issue 15, item 2): each export's progress and archive, and its download links
(kept as SHA-256 only).

Revision ID: 0110
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0110"
down_revision = "0004"
TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "exports",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("parts", JSONB, nullable=False, server_default="{}"),
        sa.Column("parts_done", sa.Integer, nullable=False, server_default="0"),
        sa.Column("parts_total", sa.Integer, nullable=False),
        sa.Column("size", sa.BigInteger),
        sa.Column("sha256", sa.String(64)),
        sa.Column("error", sa.String(300)),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("ready_at", TZ),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("lease_until", TZ),
    )
    op.create_index("ix_exports_workspace_created", "exports", ["workspace_id", "created_at"])
    op.create_index("ix_exports_expires", "exports", ["expires_at"])
    op.create_table(
        "export_links",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("export_id", sa.String(40), sa.ForeignKey("exports.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
    )
    op.create_index("ix_export_links_export_id", "export_links", ["export_id"])


def downgrade() -> None:
    op.drop_table("export_links")
    op.drop_table("exports")
