"""A waiter cancelled while its asyncpg connection opens leaves nothing behind
(models/pg_connect.py): no unretrieved error for the event loop to report, no open socket."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa

from models import pg_connect
from models.db import make_engine
from models.pg_connect import connect

pytestmark = pytest.mark.anyio

NAME = "vestnik-pg-connect-test"


@pytest.fixture
def dsn(postgres_url: str) -> str:
    return sa.engine.make_url(postgres_url).set(drivername="postgresql").render_as_string(False)


@pytest.fixture
async def loop_errors() -> AsyncIterator[list[dict[str, Any]]]:
    """What the event loop reports as unhandled during the test."""
    loop = asyncio.get_running_loop()
    errors: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    try:
        yield errors
    finally:
        loop.set_exception_handler(previous)


async def open_backends(dsn: str) -> int:
    probe = await asyncpg.connect(dsn)
    try:
        query = "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1"
        return int(await probe.fetchval(query, NAME))
    finally:
        await probe.close()


async def cancel_at_every_step(opener: Callable[..., Awaitable[Any]], dsn: str) -> int:
    """Cancel an open after 0, 1, 2, ... turns of the loop; how many opens got that far."""
    cancelled = 0
    for turns in range(40):
        task = asyncio.ensure_future(opener(dsn, server_settings={"application_name": NAME}))
        for _ in range(turns):
            await asyncio.sleep(0)
        if task.done():
            (await task).terminate()
            break
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        cancelled += 1
    return cancelled


async def test_a_cancelled_open_finishes_and_closes_its_connection(dsn, loop_errors) -> None:
    # when: opens cancelled at each point of the connect, the TLS request's included
    cancelled = await cancel_at_every_step(connect, dsn)
    for _ in range(100):  # the opens go on by themselves; each closes what it made
        await asyncio.sleep(0.05)
        if await open_backends(dsn) == 0:
            break

    # then
    assert cancelled >= 3  # the socket, the TLS request and the start-up were all cut
    assert await open_backends(dsn) == 0
    assert loop_errors == []


async def test_engines_open_their_connections_so(postgres_url, monkeypatch) -> None:
    # given
    opened: list[object] = []

    async def spy(*args: Any, **kwargs: Any) -> asyncpg.Connection:
        opened.append(args)
        return await connect(*args, **kwargs)

    monkeypatch.setattr(pg_connect, "connect", spy)
    engine = make_engine(postgres_url)
    try:
        # when
        async with engine.connect() as connection:
            assert await connection.scalar(sa.text("SELECT 1")) == 1
    finally:
        await engine.dispose()

    # then
    assert len(opened) == 1
