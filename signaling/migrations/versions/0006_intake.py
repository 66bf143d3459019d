"""intake: applications made on an office's public page (encrypted details, attachments,
phone codes), the office's areas for assigning mediators, return visits, an unperformed
agreement's flag on the case, and an invitee's "cannot come"

Revision ID: 0006_intake
Revises: 0005_scheduling
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from signaling.db.base import UTCDateTime

revision = "0006_intake"
down_revision = "0006_office"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("unperformed", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    with op.batch_alter_table("invites") as batch:
        batch.add_column(sa.Column("declined_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("decline_reason", sa.String(200), nullable=True))
    op.create_table(
        "office_areas",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("office_id", sa.String(32), sa.ForeignKey("offices.id"), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("mediator_id", sa.String(32), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
    )
    op.create_index("ix_office_areas_office_id", "office_areas", ["office_id"])
    op.create_table(
        "applications",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("case_id", sa.String(32), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("office_id", sa.String(32), sa.ForeignKey("offices.id"), nullable=False),
        sa.Column("reference", sa.String(32), nullable=False),
        sa.Column("status_token_hash", sa.String(64), nullable=False),
        sa.Column("applicant_masked", sa.String(40), nullable=False),
        sa.Column("details_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("area_id", sa.String(32), sa.ForeignKey("office_areas.id"), nullable=True),
        sa.Column("consented_at", UTCDateTime(), nullable=False),
        sa.Column("notice_version", sa.String(16), nullable=False),
        sa.Column("decision_reason", sa.Text(), nullable=False),
        sa.Column("decision_notified", sa.String(16), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("case_id"),
        sa.UniqueConstraint("reference"),
        sa.UniqueConstraint("status_token_hash"),
    )
    op.create_index("ix_applications_office_id", "applications", ["office_id"])
    op.create_table(
        "application_attachments",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("application_id", sa.String(32), sa.ForeignKey("applications.id"),
                  nullable=False),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("content_type", sa.String(40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("stored_name", sa.String(64), nullable=False),
    )
    op.create_index("ix_application_attachments_application_id", "application_attachments",
                    ["application_id"])
    op.create_table(
        "phone_codes",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("phone_hash", sa.String(64), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_phone_codes_phone_hash", "phone_codes", ["phone_hash"])
    op.create_table(
        "return_visits",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("case_id", sa.String(32), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("set_by", sa.String(32), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=True),
        sa.Column("recorded_by", sa.String(32), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("visitor", sa.String(120), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("performed", sa.Boolean(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
    )
    op.create_index("ix_return_visits_case_id", "return_visits", ["case_id"])


def downgrade() -> None:
    for table in ("return_visits", "phone_codes", "application_attachments", "applications",
                  "office_areas"):
        op.drop_table(table)
    with op.batch_alter_table("invites") as batch:
        batch.drop_column("decline_reason")
        batch.drop_column("declined_at")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("unperformed")
