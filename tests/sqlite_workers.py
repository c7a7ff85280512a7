"""Test helper for SQLite connections that fail (a database file in a missing directory)."""

import threading

import anyio


async def aiosqlite_workers_stopped() -> None:
    """Wait for aiosqlite's worker threads to end before this test's event loop closes.

    After a failed connect aiosqlite stops its worker without waiting for it; a worker that
    finishes after the loop closed raises "Event loop is closed" in its thread
    (omnilib/aiosqlite#241), which pytest reports against a later test.
    """
    for thread in threading.enumerate():
        if thread.name.endswith("(_connection_worker_thread)"):
            await anyio.to_thread.run_sync(thread.join, 2)
