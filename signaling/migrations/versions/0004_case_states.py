"""case_states: a case's life (申请 → … → 归档) and the case log of its moves

Cases written before this revision carry the old states ("open", "failed", "closed"); they
are mapped here to the states of ``signaling.case_states`` ("open" is a case an office
took in: 受理).

Revision ID: 0004_case_states
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from signaling.db.base import UTCDateTime

revision = "0004_case_states"
down_revision = "0003"
branch_labels = None
depends_on = None

FORWARD = {"open": "accepted", "failed": "not_agreed", "closed": "archived"}
"""The old states that changed name (in_mediation and agreed keep theirs)."""
BACK = {"applied": "open", "accepted": "open", "scheduled": "open", "rejected": "closed",
        "not_agreed": "failed", "terminated": "closed", "judicial_confirm": "agreed",
        "return_visit": "agreed", "archived": "closed"}

cases = sa.table("cases", sa.column("status", sa.String()))


def upgrade() -> None:
    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(32), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor_id", sa.String(32), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("from_status", sa.String(16), nullable=True),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
    )
    op.create_index("ix_case_events_case_id", "case_events", ["case_id"])
    for old, new in FORWARD.items():
        op.execute(cases.update().where(cases.c.status == old).values(status=new))


def downgrade() -> None:
    for new, old in BACK.items():
        op.execute(cases.update().where(cases.c.status == new).values(status=old))
    op.drop_index("ix_case_events_case_id", table_name="case_events")
    op.drop_table("case_events")
