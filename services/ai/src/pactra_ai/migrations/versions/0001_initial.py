"""The ai service's workspace AI settings, analyses, cache, token usage, outbox and inbox.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

from pactra_platform.messaging import create_messaging_tables

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "workspace_ai_settings",
        sa.Column("workspace_id", sa.String(40), primary_key=True),
        sa.Column("ai_enabled", sa.Boolean, nullable=False),
        sa.Column("ai_engine", sa.String(20), nullable=False),
        sa.Column("ai_auto_analyze", sa.Boolean, nullable=False),
    )
    op.create_table(
        "analyses",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("workspace_id", sa.String(40), nullable=False, index=True),
        sa.Column("document_id", sa.String(40), nullable=False),
        sa.Column("sha256", sa.String(64)),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("engine", sa.String(20), nullable=False),
        sa.Column("model", sa.String(120), nullable=False),
        sa.Column("summary", sa.Text),
        sa.Column("clauses", sa.JSON),
        sa.Column("error", sa.String(200)),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("workspace_id", "document_id"),
    )
    op.create_table(
        "analysis_cache",
        sa.Column("scope", sa.String(40), primary_key=True),
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("engine", sa.String(20), primary_key=True),
        sa.Column("model", sa.String(120), primary_key=True),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("clauses", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "token_usage",
        sa.Column("workspace_id", sa.String(40), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("tokens", sa.Integer, nullable=False),
    )
    create_messaging_tables(op)


def downgrade() -> None:
    op.drop_table("inbox")
    op.drop_table("outbox")
    op.drop_table("token_usage")
    op.drop_table("analysis_cache")
    op.drop_table("analyses")
    op.drop_table("workspace_ai_settings")
