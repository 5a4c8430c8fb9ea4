"""Evidence jobs: attempts are recorded before they start (``attempt_started_at``), and a job
that ran out of attempts waits for an operator (``next_attempt_at`` NULL).

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.add_column("receipts_evidence_jobs",
                  sa.Column("attempt_started_at", sa.DateTime(timezone=True), nullable=True))
    op.alter_column("receipts_evidence_jobs", "next_attempt_at", nullable=True)


def downgrade() -> None:
    op.execute("UPDATE receipts_evidence_jobs SET next_attempt_at = now() WHERE next_attempt_at IS NULL")
    op.alter_column("receipts_evidence_jobs", "next_attempt_at", nullable=False)
    op.drop_column("receipts_evidence_jobs", "attempt_started_at")
