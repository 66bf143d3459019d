"""scheduling: a session's expected length, invitations sent ahead (encrypted contact and
token for reminders, delivery state) and the reminders claimed once across nodes

Revision ID: 0005_scheduling
Revises: 0004_case_states
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from signaling.db.base import UTCDateTime

revision = "0005_scheduling"
down_revision = "0004_case_states"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("expected_minutes", sa.Integer(), nullable=True))
    with op.batch_alter_table("invites") as batch:
        batch.add_column(sa.Column("contact_masked", sa.String(40), nullable=True))
        batch.add_column(sa.Column("contact_sealed", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("token_sealed", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("notified", sa.String(16), nullable=True))
    op.create_table(
        "session_reminders",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("invite_id", sa.String(32), sa.ForeignKey("invites.id"), nullable=False),
        sa.Column("stage", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("sent_to", sa.String(40), nullable=False),
        sa.Column("error", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("invite_id", "stage"),
    )


def downgrade() -> None:
    op.drop_table("session_reminders")
    with op.batch_alter_table("invites") as batch:
        for name in ("notified", "token_sealed", "contact_sealed", "contact_masked"):
            batch.drop_column(name)
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("expected_minutes")
