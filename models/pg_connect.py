"""Opening an asyncpg connection so that a cancelled waiter does not cut it off half-way.

A read is cancelled while it waits for a new connection more often than one would think:
when one field of a document fails, graphql-core cancels its sibling fields, and Strawberry
then cancels a DataLoader batch that no field waits for any more. Cancelled inside
``asyncpg.connect`` while it negotiates TLS (``sslmode=prefer`` asks first, even on a
server without TLS), asyncpg leaves the negotiation's future behind; when the socket
closes, that future gets "unexpected connection_lost() call", which nobody retrieves
(MagicStack/asyncpg#1211, #1310). The event loop reports it as an unhandled error (the
PostgreSQL fuzz test saw it), and the half-open socket may linger.

Here the connect runs to its end in a task of its own; a cancelled waiter leaves at once,
and the connection made for it, if any, is closed when it is ready.

This passes ``async_creator_fn`` to SQLAlchemy's asyncpg DBAPI adapter, as
``models/sqlite_connect.py`` does for aiosqlite; ``tests/models/test_pg_connect.py`` pins it.
"""

import asyncio
from typing import Any

import asyncpg
import sqlalchemy as sa


async def connect(*args: Any, **kwargs: Any) -> asyncpg.Connection:
    """``asyncpg.connect(*args, **kwargs)``, finished even when the waiter is cancelled."""
    opening = asyncio.ensure_future(asyncpg.connect(*args, **kwargs))
    try:
        return await asyncio.shield(opening)
    except asyncio.CancelledError:
        opening.add_done_callback(_discard)
        raise


def _discard(opening: "asyncio.Future[asyncpg.Connection]") -> None:
    """Close the connection nobody waits for any more (its error, if it failed, is read)."""
    if opening.cancelled() or opening.exception() is not None:
        return
    opening.result().terminate()


def open_connections_with(engine: sa.Engine) -> None:
    """Make ``engine`` (an asyncpg engine's sync side) open its connections with ``connect``."""

    def do_connect(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        return dialect.dbapi.connect(*cargs, async_creator_fn=connect, **cparams)

    sa.event.listen(engine, "do_connect", do_connect)
