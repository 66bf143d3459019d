"""office details: an office's city, address and public phone, and the two switches of
city-wide expert sharing (lend our experts, call the city's)

Revision ID: 0009_office_details
Revises: 0008_return_visit_reminders
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_office_details"
down_revision = "0008_return_visit_reminders"
branch_labels = None
depends_on = None

TEXT = (("city", 60), ("address", 200), ("phone", 30))
SWITCHES = ("share_experts", "use_city_experts")


def upgrade() -> None:
    with op.batch_alter_table("offices") as batch:
        for name, length in TEXT:
            batch.add_column(sa.Column(name, sa.String(length), nullable=False,
                                       server_default=""))
        for name in SWITCHES:
            batch.add_column(sa.Column(name, sa.Boolean(), nullable=False,
                                       server_default=sa.false()))
    # The texts keep '' as the database's default too, so that rows written without the
    # ORM (COPY, a seeding script, an older node during a rolling upgrade) are valid.


def downgrade() -> None:
    with op.batch_alter_table("offices") as batch:
        for name in (*SWITCHES, *reversed([n for n, _ in TEXT])):
            batch.drop_column(name)
