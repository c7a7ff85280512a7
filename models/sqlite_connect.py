"""Opening an aiosqlite connection so that a failed open leaves no thread behind.

When ``aiosqlite.connect`` fails (e.g. the database file's directory is missing), aiosqlite
queues its worker thread's stop without waiting for it (omnilib/aiosqlite#241). The
worker then reports to the event loop of the failed open; if that loop has closed by then,
it raises "Event loop is closed" in its thread, which surfaced as an unhandled-thread
warning in a later test (tests/schema/test_persisted.py, once on a fresh CI machine).
Here the open waits for the worker to end before the error goes on, while the loop lives.

This reads aiosqlite's private ``Connection._thread`` (its worker; SQLAlchemy's dialect
reads it the same way to make it a daemon). ``tests/models/test_sqlite_connect.py`` pins it.
"""

import asyncio
from typing import Any

import aiosqlite
import sqlalchemy as sa

# A worker ends within microseconds once told to stop; this only bounds a stuck one.
JOIN_SECONDS = 5.0


async def connect(*args: Any, **kwargs: Any) -> aiosqlite.Connection:
    """``aiosqlite.connect(*args, **kwargs)``, awaited; a failure ends its worker first."""
    connection = aiosqlite.connect(*args, **kwargs)
    worker = connection._thread
    worker.daemon = True  # as SQLAlchemy's dialect does for connections it opens itself
    try:
        return await connection
    except BaseException:
        if worker.is_alive():
            await asyncio.to_thread(worker.join, JOIN_SECONDS)
        raise


def open_connections_with(engine: sa.Engine) -> None:
    """Make ``engine`` (an aiosqlite engine's sync side) open its connections with ``connect``."""

    def do_connect(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        return dialect.dbapi.connect(*cargs, async_creator_fn=connect, **cparams)

    sa.event.listen(engine, "do_connect", do_connect)
