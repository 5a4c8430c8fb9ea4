"""The account (api.md, "Account"): verified and pending emails, emailed-link tokens, and the
hash-chained security log (api.md, "Security events").

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Owners who signed up before verification existed are unverified: they confirm through
    # POST /v1/account/verify-email like anyone else.
    op.add_column("users", sa.Column("email_verified_at", TZ, nullable=True))
    op.add_column("users", sa.Column("pending_email", sa.String(254), nullable=True))
    op.create_table(
        "account_tokens",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("purpose", sa.String(20), nullable=False),
        sa.Column("user_id", sa.String(40), sa.ForeignKey("users.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("used_at", TZ, nullable=True),
    )
    op.create_index("ix_account_tokens_user", "account_tokens", ["user_id", "purpose"])
    op.create_table(
        "security_events",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("type", sa.String(60), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("actor", JSONB, nullable=False),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.Column("data", JSONB, nullable=False),
        sa.Column("prev", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        # Two entries after one predecessor would fork the chain: the database refuses it,
        # whatever a writer's locking did.
        sa.UniqueConstraint("workspace_id", "prev", name="uq_security_events_prev"),
        sa.UniqueConstraint("workspace_id", "seq", name="uq_security_events_seq"),
    )


def downgrade() -> None:
    op.drop_table("security_events")
    op.drop_index("ix_account_tokens_user", table_name="account_tokens")
    op.drop_table("account_tokens")
    op.drop_column("users", "pending_email")
    op.drop_column("users", "email_verified_at")
