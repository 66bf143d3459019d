"""sides: named sides per case (申请人, 被申请人, 第三人, ...) and interpreters' seats

Sides A and B need no row: they are 申请人 and 被申请人 for every case, so existing
participants and links (side "A" or "B") keep their meaning; a row renames them or adds
C, D, ... The side column stays one letter.

Revision ID: 0006_sides
Revises: 0005_scheduling
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from signaling.db.base import UTCDateTime

revision = "0006_sides"
down_revision = "0006_archive"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_sides",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("case_id", sa.String(32), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("key", sa.String(1), nullable=False),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("case_id", "key"),
    )
    op.create_index("ix_case_sides_case_id", "case_sides", ["case_id"])
    with op.batch_alter_table("participants") as batch:
        batch.add_column(sa.Column("interpretation", sa.String(16), nullable=True))
    with op.batch_alter_table("invites") as batch:
        batch.add_column(sa.Column("interpretation", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("invites") as batch:
        batch.drop_column("interpretation")
    with op.batch_alter_table("participants") as batch:
        batch.drop_column("interpretation")
    op.drop_index("ix_case_sides_case_id", "case_sides")
    op.drop_table("case_sides")
