"""archive: the session's recording switch and the archived audio segments (the bytes are
stored encrypted on disk)

Revision ID: 0006_archive
Revises: 0005_scheduling
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from signaling.db.base import UTCDateTime

revision = "0006_archive"
down_revision = "0005_scheduling"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(
            sa.Column("recording", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    op.create_table(
        "audio_segments",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("session_id", sa.String(32), sa.ForeignKey("sessions.id"), nullable=False),
        sa.Column("participant_id", sa.String(32), nullable=False),
        sa.Column("caucus_id", sa.String(32), nullable=True),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("end", sa.Float(), nullable=False),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_audio_segments_session_id", "audio_segments", ["session_id"])
    op.create_index("ix_audio_segments_participant_id", "audio_segments", ["participant_id"])


def downgrade() -> None:
    op.drop_table("audio_segments")
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("recording")
