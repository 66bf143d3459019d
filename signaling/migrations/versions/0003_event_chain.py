"""session_events: the hash chain, made at write time (payload digest, previous hash, own hash)

Events written before this revision are chained here, in each session's order, exactly
as ``signaling.eventlog.append`` chains new ones, so every session's log is one chain.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from signaling.db.base import UTCDateTime
from signaling.eventchain import GENESIS, entry_hash, payload_digest

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

events = sa.table(
    "session_events",
    sa.column("id", sa.Integer()), sa.column("session_id", sa.String()),
    sa.column("seq", sa.Integer()), sa.column("at", UTCDateTime()),
    sa.column("kind", sa.String()), sa.column("actor_id", sa.String()),
    sa.column("caucus_id", sa.String()), sa.column("payload", sa.JSON()),
    sa.column("payload_sha256", sa.String()), sa.column("prev_hash", sa.String()),
    sa.column("entry_hash", sa.String()),
)


def upgrade() -> None:
    with op.batch_alter_table("session_events") as batch:
        batch.add_column(sa.Column("payload_sha256", sa.String(64), nullable=True))
        batch.add_column(sa.Column("prev_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("entry_hash", sa.String(64), nullable=True))
    conn = op.get_bind()
    # One session at a time: memory is bounded by the longest log, not the whole table.
    sessions = conn.execute(sa.select(events.c.session_id).distinct()).scalars().all()
    for session_id in sessions:
        prev = GENESIS
        rows = conn.execute(sa.select(
            events.c.id, events.c.seq, events.c.at, events.c.kind, events.c.actor_id,
            events.c.caucus_id, events.c.payload,
        ).where(events.c.session_id == session_id).order_by(events.c.seq)).all()
        for row in rows:
            digest = payload_digest(row.payload or {})
            own = entry_hash(prev_hash=prev, session_id=session_id, seq=row.seq, at=row.at,
                             kind=row.kind, actor_id=row.actor_id, caucus_id=row.caucus_id,
                             payload_sha256=digest)
            conn.execute(events.update().where(events.c.id == row.id).values(
                payload_sha256=digest, prev_hash=prev, entry_hash=own))
            prev = own


def downgrade() -> None:
    with op.batch_alter_table("session_events") as batch:
        batch.drop_column("entry_hash")
        batch.drop_column("prev_hash")
        batch.drop_column("payload_sha256")
