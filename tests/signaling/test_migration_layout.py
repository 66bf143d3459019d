"""Each package keeps its own Alembic revisions (``<package>/migrations/versions/``, found
through ``version_locations``), and the move from one shared folder changed nothing a
database can see: the same revision ids, parents and branch labels, so a database brought
to head by the old layout is at head in the new one and goes down and up again."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text

from signaling.db import migrate as migrate_module
from signaling.db.engine import Database
from signaling.db.migrate import MIGRATIONS, alembic_config, migrate, run_alembic, version_locations
from signaling.features import FEATURE_PACKAGES
from tests.conftest import ROOT
from tests.signaling.test_schema_drift import schema_differences

PARENTS = {
    "0001": None,
    "0002": "0001",
    "0003": "0002",
    "0004_case_states": "0003",
    "0005_scheduling": "0004_case_states",
    "0006_archive": "0005_scheduling",
    "0006_sides": "0006_archive",
    "0006_office": "0006_sides",
    "0006_intake": "0006_office",
    "0007_dispute_types": "0006_intake",
    "0008_return_visit_reminders": "0007_dispute_types",
    "0009_office_details": "0008_return_visit_reminders",
    "agreements_0001": "0001",
    "agreements_0002_parties_signers": "agreements_0001",
    "agreements_0003_verification": "agreements_0002_parties_signers",
    "agreements_0004_deadlines": "agreements_0003_verification",
    "agreements_0005_office": "agreements_0004_deadlines",
    "experts_0001": "0001",
    "transcription_0001": "0001",
}
"""Every revision and its parent when all of them lived in signaling/migrations/versions/.
A new revision is added here too (this map is the history databases already carry)."""
LABELS = {"agreements_0001": {"agreements"}, "experts_0001": {"experts"},
          "transcription_0001": {"transcription"}}
HEADS = {"0009_office_details", "agreements_0005_office", "experts_0001",
         "transcription_0001"}


def scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def owner(revision: str) -> str:
    pkg = revision.split("_", 1)[0]
    return pkg if pkg in FEATURE_PACKAGES else "signaling"


def test_every_package_holds_its_own_revisions() -> None:
    assert version_locations() == [
        MIGRATIONS / "versions",
        *(ROOT / pkg / "migrations" / "versions" for pkg in FEATURE_PACKAGES)]
    seen = {}
    for script in scripts().walk_revisions():
        path = Path(script.path)
        assert path.parent == ROOT / owner(script.revision) / "migrations" / "versions", path
        seen[script.revision] = script.down_revision
        declared = script.module.branch_labels or ()
        assert set(declared) == LABELS.get(script.revision, set()), script
    # Ids and parents as before: databases already migrated upgrade unchanged.
    assert seen == PARENTS
    assert set(scripts().get_heads()) == HEADS


def test_the_core_folder_holds_no_package_revision() -> None:
    names = {p.stem for p in (MIGRATIONS / "versions").glob("*.py")}
    assert not {n for n in names if n.split("_", 1)[0] in FEATURE_PACKAGES}, names


@pytest.fixture
def old_layout(tmp_path: Path) -> Path:
    """The layout before the move: the environment and every revision in one folder."""
    old = tmp_path / "old_migrations"
    (old / "versions").mkdir(parents=True)
    for name in ("env.py", "script.py.mako"):
        shutil.copy(MIGRATIONS / name, old / name)
    for folder in version_locations():
        for path in folder.glob("*.py"):
            shutil.copy(path, old / "versions" / path.name)
    return old


async def current(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
    return {r[0] for r in rows}


async def test_a_database_of_the_old_layout_upgrades_unchanged_and_goes_down_and_up(
        database_url: str, old_layout: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def old_config(url: str) -> Config:
        cfg = Config()
        cfg.set_main_option("script_location", str(old_layout))
        cfg.set_main_option("sqlalchemy.url", url)
        return cfg

    db = Database(database_url)
    try:
        with monkeypatch.context() as m:
            m.setattr(migrate_module, "alembic_config", old_config)
            await migrate(db)
        assert await current(db) == HEADS
        await migrate(db)  # the new layout finds nothing to do
        assert await current(db) == HEADS
        await run_alembic(db, "downgrade", "base")
        assert await current(db) == set()
        await migrate(db)
        assert await current(db) == HEADS
        from signaling.db.tables import metadata

        assert not await schema_differences(db, metadata)
    finally:
        await db.close()
