"""office: when a case was first decided, agreed and sent to 司法确认 (backfilled from the
case log), and indexes for the statistics dashboard and the case register (an office's cases by
application date, a mediator's cases)

Revision ID: 0006_office
Revises: 0005_scheduling
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from signaling.db.base import UTCDateTime

MILESTONES = {
    "decided_at": ("agreed", "not_agreed", "terminated"),
    "agreed_at": ("agreed",),
    "judicial_at": ("judicial_confirm",),
}
"""signaling.case_states.MILESTONES as of this revision, column first."""

revision = "0006_office"
down_revision = "0006_sides"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        for column in MILESTONES:
            batch.add_column(sa.Column(column, UTCDateTime(), nullable=True))
    for column, states in MILESTONES.items():
        listed = ", ".join(f"'{s}'" for s in states)
        op.execute(
            f"UPDATE cases SET {column} = (SELECT min(e.at) FROM case_events e "
            f"WHERE e.case_id = cases.id AND e.to_status IN ({listed}))"
        )
    op.create_index("ix_cases_office_created", "cases", ["office_id", "created_at"])
    op.create_index("ix_cases_mediator_created", "cases", ["mediator_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_cases_mediator_created", table_name="cases")
    op.drop_index("ix_cases_office_created", table_name="cases")
    with op.batch_alter_table("cases") as batch:
        for column in MILESTONES:
            batch.drop_column(column)
