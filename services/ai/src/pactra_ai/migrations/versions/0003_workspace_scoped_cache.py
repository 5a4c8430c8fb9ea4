"""The analysis cache becomes per workspace: the rows shared across workspaces (scope ``*``,
offline results) are dropped, as no workspace may be answered from them any more.

Revision ID: 0003
"""

from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.execute("DELETE FROM analysis_cache WHERE scope = '*'")


def downgrade() -> None:
    pass  # the shared rows are gone for good; an older version simply fills its cache again
