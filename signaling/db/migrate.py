"""Apply Alembic migrations from code (``tiaojie migrate`` and ``serve`` start-up)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection

from signaling.db.engine import Database
from signaling.features import FEATURE_PACKAGES, package_dirs

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
"""The Alembic environment (``env.py``, the revision template) and the core's revisions
(``versions/``)."""


def version_locations() -> list[Path]:
    """Every folder of revisions: the core's, then each feature package's own
    ``<package>/migrations/versions/`` (a branch off ``0001`` with the package's name as its
    label), in the order of ``signaling.features.FEATURE_PACKAGES``."""
    out = [MIGRATIONS / "versions"]
    for pkg in FEATURE_PACKAGES:
        out += [d / "migrations" / "versions" for d in package_dirs(pkg)
                if (d / "migrations" / "versions").is_dir()]
    return out


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations",
                        os.pathsep.join(str(p) for p in version_locations()))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


async def migrate(db: Database, revision: str = "heads") -> None:
    """Bring the database schema to ``revision`` (idempotent).

    Each package's tables are one Alembic branch off ``0001`` (revision ids such as
    ``experts_0001``, in that package's own ``migrations/versions/``), so that packages
    evolve their tables independently; "heads" applies every branch."""
    await run_alembic(db, "upgrade", revision)


async def run_alembic(db: Database, step: Literal["upgrade", "downgrade"],
                      revision: str) -> None:
    """Run one Alembic command on ``db``.

    On SQLite, foreign keys are off while it runs: a migration that changes a column
    rebuilds the table (batch mode: copy, DROP, rename), and with foreign keys on, the DROP
    of a table that other rows point to (``cases``, say) fails. They are checked again
    afterwards, and any row left pointing nowhere fails the migration."""

    def _run(conn: Connection) -> None:
        cfg = alembic_config(db.url)
        cfg.attributes["connection"] = conn
        getattr(command, step)(cfg, revision)

    async with db.engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # Outside a transaction: SQLite ignores this pragma inside one.
            await conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            await conn.commit()
        try:
            async with conn.begin():
                if conn.dialect.name == "postgresql":
                    # Several nodes start at once: one migrates, the others wait and find
                    # nothing to do.
                    await conn.execute(text("SELECT pg_advisory_xact_lock(72871)"))
                await conn.run_sync(_run)
                if sqlite:
                    broken = (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all()
                    if broken:
                        raise RuntimeError(f"migration left rows pointing nowhere: {broken[:5]}")
        finally:
            if sqlite:
                await conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                await conn.commit()
