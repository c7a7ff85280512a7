"""The raw readers the planner (``schema/compiled``) reads through, one per database.

The view puts the reader of the database a request reads (the primary or the replica it
picked) into the request's context; the planner, a schema extension, uses it for the
documents it can answer. On SQLite, or outside the app's lifespan, there is none, and
graphql-core executes every document.
"""

import contextlib
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncEngine

from models.db import SessionMaker
from models.rawdb import RawReader


class RawReaders:
    """One ``RawReader`` per database the app reads (the primary, each replica)."""

    def __init__(self, engine: AsyncEngine, *, statement_timeout_ms: int | None = None) -> None:
        self.primary = engine
        self.statement_timeout_ms = statement_timeout_ms
        self.readers: dict[int, RawReader | None] = {}
        # Raw readers hold connection pools: they exist only while the app's lifespan runs
        # (an app served without it, as in some tests, always takes the regular path).
        self.started = False

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        self.started = True
        try:
            yield
        finally:
            self.started = False
            for reader in self.readers.values():
                if reader is not None:
                    await reader.close()
            self.readers.clear()

    def reader(self, session_maker: SessionMaker | None) -> RawReader | None:
        """The raw reader for the database ``session_maker`` reads (None: the primary)."""
        if not self.started:
            return None
        engine = self.primary if session_maker is None else session_maker.kw.get("bind")
        if not isinstance(engine, AsyncEngine):
            return None
        key = id(engine)
        if key not in self.readers:
            self.readers[key] = RawReader.for_engine(
                engine, statement_timeout_ms=self.statement_timeout_ms
            )
        return self.readers[key]
