"""dispute types as data: the service-wide defaults (rows without an office, seeded with the
list signaling/intake.py had as a constant) and each office's own list once it changes one

Revision ID: 0007_dispute_types
Revises: 0006_intake
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from signaling.db.base import UTCDateTime, new_id, utcnow

DEFAULTS = (
    ("marriage_family", "婚姻家庭纠纷"), ("neighbour", "邻里纠纷"),
    ("property_management", "物业纠纷"), ("contract_debt", "合同、债务纠纷"),
    ("labour", "劳动争议"), ("damages", "损害赔偿纠纷"), ("land_housing", "房屋、土地纠纷"),
    ("consumer", "消费纠纷"), ("other", "其他纠纷"),
)
"""signaling.intake.DISPUTE_TYPES as of this revision (key, name as the register writes it)."""

revision = "0007_dispute_types"
down_revision = "0006_intake"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "dispute_types",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("office_id", sa.String(32), sa.ForeignKey("offices.id"), nullable=True),
        sa.Column("key", sa.String(40), nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("office_id", "key"),
    )
    op.create_index("ix_dispute_types_office_id", "dispute_types", ["office_id"])
    now = utcnow()
    op.bulk_insert(table, [
        {"id": new_id(), "office_id": None, "key": k, "name": n, "active": True,
         "position": i, "created_at": now}
        for i, (k, n) in enumerate(DEFAULTS)])


def downgrade() -> None:
    op.drop_index("ix_dispute_types_office_id", table_name="dispute_types")
    op.drop_table("dispute_types")
