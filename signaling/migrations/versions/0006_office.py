"""office: indexes for the statistics dashboard and the case register (an office's cases by
application date, a mediator's cases, the moves that reached a state)

Revision ID: 0006_office
Revises: 0005_scheduling
"""

from __future__ import annotations

from alembic import op

revision = "0006_office"
down_revision = "0005_scheduling"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cases_office_created", "cases", ["office_id", "created_at"])
    op.create_index("ix_cases_mediator_created", "cases", ["mediator_id", "created_at"])
    op.create_index("ix_case_events_to_case", "case_events", ["to_status", "case_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_case_events_to_case", table_name="case_events")
    op.drop_index("ix_cases_mediator_created", table_name="cases")
    op.drop_index("ix_cases_office_created", table_name="cases")
