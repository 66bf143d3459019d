"""agreements: an office's default template per document kind and language

Revision ID: agreements_0005_office
Revises: agreements_0004_deadlines
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "agreements_0005_office"
down_revision = "agreements_0004_deadlines"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agreement_templates") as batch:
        batch.add_column(
            sa.Column("is_default", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("agreement_templates") as batch:
        batch.drop_column("is_default")
