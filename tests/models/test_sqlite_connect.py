"""A failed SQLite open leaves no aiosqlite worker behind (models/sqlite_connect.py)."""

import threading
from pathlib import Path

import aiosqlite
import pytest
import sqlalchemy as sa

from models.db import make_engine
from models.sqlite_connect import connect

pytestmark = pytest.mark.anyio


def workers() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.endswith("(_connection_worker_thread)")}


async def test_aiosqlite_keeps_its_worker_where_the_adapter_reads_it(tmp_path: Path) -> None:
    # pins the private attribute models/sqlite_connect.py relies on
    connection = aiosqlite.connect(tmp_path / "pinned.db")
    assert isinstance(connection._thread, threading.Thread)
    async with connection:
        assert connection._thread.is_alive()


async def test_a_failed_open_ends_its_worker_before_the_error(tmp_path: Path) -> None:
    before = workers()
    with pytest.raises(Exception, match="unable to open database file"):
        await connect(str(tmp_path / "missing" / "vestnik.db"))
    assert not {t for t in workers() - before if t.is_alive()}


async def test_an_engine_on_a_missing_directory_leaves_no_worker(tmp_path: Path) -> None:
    before = workers()
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'vestnik.db'}")
    try:
        with pytest.raises(sa.exc.OperationalError):
            async with engine.connect() as connection:
                await connection.execute(sa.text("SELECT 1"))
        # then: the worker ended while this test's event loop was still running
        assert not {t for t in workers() - before if t.is_alive()}
    finally:
        await engine.dispose()


async def test_an_engine_still_opens_and_uses_a_database(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'ok.db'}")
    try:
        async with engine.connect() as connection:
            assert await connection.scalar(sa.text("PRAGMA foreign_keys")) == 1
            assert await connection.scalar(sa.text("PRAGMA journal_mode")) == "wal"
    finally:
        await engine.dispose()
