"""Apply Alembic migrations from code (``tiaojie migrate`` and ``serve`` start-up)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection

from signaling.db.engine import Database

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


async def migrate(db: Database, revision: str = "heads") -> None:
    """Bring the database schema to ``revision`` (idempotent).

    Each package's tables are one Alembic branch off ``0001`` (revision ids such as
    ``experts_0001``), so that packages evolve their tables independently; "heads"
    applies every branch."""

    def _upgrade(conn: Connection) -> None:
        cfg = alembic_config(db.url)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)

    async with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Several nodes start at once: one migrates, the others wait and find nothing to do.
            await conn.execute(text("SELECT pg_advisory_xact_lock(72871)"))
        await conn.run_sync(_upgrade)
