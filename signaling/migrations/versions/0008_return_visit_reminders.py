"""return visit reminders: a staff account's mobile number (for texts to the mediator) and
the once-only claim of each "return visit due" text

Revision ID: 0008_return_visit_reminders
Revises: 0007_dispute_types
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from signaling.db.base import UTCDateTime

revision = "0008_return_visit_reminders"
down_revision = "0007_dispute_types"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("phone", sa.String(20), nullable=True))
    op.create_table(
        "return_visit_reminders",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("return_visit_id", sa.String(32), sa.ForeignKey("return_visits.id"),
                  nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("sent_to", sa.String(40), nullable=False),
        sa.Column("error", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("return_visit_id", "due_on"),
    )


def downgrade() -> None:
    op.drop_table("return_visit_reminders")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("phone")
