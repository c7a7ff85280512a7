"""Shared fixtures: every database test runs on SQLite and on a throwaway PostgreSQL.

The PostgreSQL cluster is started once per session from the binaries on the
machine (see ``tests/pgcluster.py``); under ``CI=true`` a missing PostgreSQL
fails the run instead of skipping.
"""

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from models.db import SessionMaker, make_engine, make_sessionmaker
from models.migrate import upgrade
from server.app import create_app
from server.settings import Settings
from tests import budgets  # noqa: F401  (registers and loads the Hypothesis profile)
from tests.pgcluster import PostgresCluster, find_bindir

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A migrated database in a throwaway PostgreSQL cluster, for the whole session."""
    if find_bindir() is None:
        if IN_CI:
            pytest.fail("PostgreSQL binaries not found (CI=true): install postgresql-15")
        pytest.skip("PostgreSQL binaries not found; install postgresql-15 to run these tests")
    cluster = PostgresCluster()
    cluster.start()
    try:
        url = cluster.create_database("vestnik_test")
        # Fixtures may be requested from inside the event loop: migrate on a thread of its own.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, _migrate(url)).result()
        yield url
    finally:
        cluster.stop()


async def _migrate(url: str) -> None:
    engine = make_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def _truncate_postgres(engine: AsyncEngine) -> None:
    tables = ", ".join(table.name for table in SQLModel.metadata.sorted_tables)
    async with engine.begin() as connection:
        await connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per session; each test gets a copy (migrating is slow)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "migrated.db"
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _migrate(f"sqlite+aiosqlite:///{path}")).result()
    # The engine is disposed: every connection closed, so the file alone is the database.
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        database = tmp_path / "test.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), database)
        engine = make_engine(f"sqlite+aiosqlite:///{database}")
    else:
        engine = make_engine(request.getfixturevalue("postgres_url"))
        await _truncate_postgres(engine)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> SessionMaker:
    return make_sessionmaker(engine)


@pytest.fixture
async def client(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """HTTP through the real app; ASGITransport skips the lifespan, so no seed is loaded."""
    app = create_app(Settings(migrate_on_start=False, seed_on_start=False), engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@dataclass
class QueryCounter:
    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)

    def reset(self) -> None:
        self.statements.clear()


@pytest.fixture
def count_queries(engine: AsyncEngine) -> Iterator[QueryCounter]:
    """Records every SQL statement the engine sends."""
    counter = QueryCounter()

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        counter.statements.append(statement)

    sa.event.listen(engine.sync_engine, "before_cursor_execute", record)
    yield counter
    sa.event.remove(engine.sync_engine, "before_cursor_execute", record)
