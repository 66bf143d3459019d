"""Shared fixtures: real databases (SQLite and PostgreSQL), real Redis, real servers."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

PG_ADMIN_DSN = os.environ.get("TIAOJIE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TIAOJIE_TEST_REDIS", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def create_pg_database() -> str:
    import asyncpg

    name = f"tj_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name


async def drop_pg_database(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def pg_url(name: str) -> str:
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{base}/{name}"


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards. Yields its URL."""
    name = asyncio.run(create_pg_database())
    try:
        yield pg_url(name)
    finally:
        asyncio.run(drop_pg_database(name))


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each test using this runs twice: embedded SQLite and the machine's PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'tiaojie.db'}"
        return
    name = asyncio.run(create_pg_database())
    try:
        yield pg_url(name)
    finally:
        asyncio.run(drop_pg_database(name))


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A unique key prefix in the machine's Redis, cleaned afterwards."""
    prefix = f"tjtest-{uuid.uuid4().hex[:10]}"
    yield prefix

    async def clean() -> None:
        from redis.asyncio import Redis

        r = Redis.from_url(REDIS_URL)
        keys = [k async for k in r.scan_iter(f"{prefix}*")]
        if keys:
            await r.delete(*keys)
        await r.aclose()

    asyncio.run(clean())


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _noop() -> AsyncIterator[None]:
    yield


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """For a test that runs ``tiaojie serve`` (or ``worker``) in-process: the command sets
    up the process's logging, a root handler on this test's captured stderr, which pytest
    closes when the test ends. Left in place, every later log line from any thread fails
    with '--- Logging error --- ValueError: I/O operation on closed file'."""
    root = logging.getLogger()
    before = list(root.handlers)
    levels = {name: logging.getLogger(name).level
              for name in ("", "aiohttp.access", "engineio", "socketio", "aioice", "aiortc")}
    yield
    for handler in list(root.handlers):
        # pytest's own capture handlers come and go with each phase: leave them be.
        if handler not in before and not type(handler).__module__.startswith("_pytest"):
            root.removeHandler(handler)
            handler.close()
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def pytest_configure(config: pytest.Config) -> None:
    """Passwords: argon2id with the cheapest parameters it accepts, in this process only.
    Hashing and verifying stay real (a wrong password is still refused by argon2), but the
    hundreds of test users and logins no longer spend 0.15 s hashing and 0.25 s verifying
    each (with the benchmarks' check marked slow, the fast lane went from 275 s to 81 s
    here). The production parameters are checked by ``tests/signaling/test_credentials.py``;
    servers the tests start as processes keep them."""
    from argon2 import PasswordHasher

    from signaling import credentials

    credentials._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark what a test needs from the fixtures it uses, so that ``-m "not postgres"`` or
    ``-m "not redis"`` is true to its word without every test repeating the marker."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        callspec = getattr(item, "callspec", None)
        params = callspec.params if callspec is not None else {}
        if "pg_database" in names or params.get("database_url") == "postgres":
            item.add_marker(pytest.mark.postgres)
        if "redis_prefix" in names:
            item.add_marker(pytest.mark.redis)
