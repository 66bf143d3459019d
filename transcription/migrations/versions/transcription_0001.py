"""transcript: utterances and their corrections

Revision ID: transcription_0001
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "transcription_0001"
down_revision = "0001"
branch_labels = ("transcription",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "utterances",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("session_id", sa.String(32), sa.ForeignKey("sessions.id"), nullable=False),
        sa.Column("caucus_id", sa.String(32), nullable=True),
        sa.Column("participant_id", sa.String(32), nullable=False),
        sa.Column("speaker_name", sa.String(120), nullable=False),
        sa.Column("speaker_role", sa.String(16), nullable=False),
        sa.Column("voice", sa.String(64), nullable=True),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("end", sa.Float(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("model", sa.String(64), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_utterances_session_start", "utterances", ["session_id", "start"])
    op.create_table(
        "utterance_edits",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("utterance_id", sa.String(64), sa.ForeignKey("utterances.id"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text_before", sa.Text(), nullable=False),
        sa.Column("text_after", sa.Text(), nullable=False),
        sa.Column("editor_id", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_utterance_edits_utterance_id", "utterance_edits", ["utterance_id"])


def downgrade() -> None:
    op.drop_table("utterance_edits")
    op.drop_table("utterances")
