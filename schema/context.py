"""The typed per-request context every resolver receives."""

import asyncio
import contextlib
import functools
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime

import strawberry
from sqlmodel.ext.asyncio.session import AsyncSession

from models.columns import utcnow
from models.db import SessionMaker
from models.rawdb import RawReader
from models.viewer import ANONYMOUS, Viewer
from schema.loaders import Loaders

# How many root resolvers of one request read at once, each on a session of its own. A document
# with many root fields (aliases) queues here instead of taking the whole connection pool: two
# such requests would otherwise exhaust it (pool_size + max_overflow, models/db.py), and every
# connection past pool_size is opened for one field and closed again.
MAX_SESSIONS_PER_REQUEST = 4


@dataclass
class Context:
    sessionmaker: SessionMaker
    viewer: Viewer = ANONYMOUS
    # One instant per request, so every field agrees on what "published by now" means.
    now: datetime = field(default_factory=utcnow)
    # The id the HTTP layer gave this request (X-Request-ID): masked errors and logs carry it.
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    # When the answer stops being right without any content change (an office's isOpen);
    # the response cache and Cache-Control use it. None: not before the next change.
    expires_at: datetime | None = None
    # Admins may register webhooks on loopback/private networks (VESTNIK_WEBHOOK_ALLOW_...).
    webhook_allow_private_addresses: bool = False
    # Where anonymous reads go (a streaming replica), when there is one; None: the primary.
    reader: SessionMaker | None = None
    # Reads straight through asyncpg for the planner (schema/compiled), where the server
    # has them (PostgreSQL, anonymous readers, VESTNIK_COMPILED_QUERIES); None: none.
    raw_reader: RawReader | None = None
    # Read queries may be answered from a plan (schema/compiled); False: graphql-core
    # executes every document (VESTNIK_COMPILED_QUERIES=false, and reference answers in tests).
    planned: bool = False
    # Set when the planner answered, instead of graphql-core's executor (for metrics, tests).
    answered_by_plan: bool = False
    _session_slots: asyncio.Semaphore = field(
        default_factory=lambda: asyncio.Semaphore(MAX_SESSIONS_PER_REQUEST), repr=False
    )

    @functools.cached_property
    def loaders(self) -> Loaders:
        """Built on first use: a planned request never needs them (about 50 us saved)."""
        return Loaders(self.read_sessionmaker, self.viewer, self.now)

    @property
    def read_sessionmaker(self) -> SessionMaker:
        """Anonymous readers may read a replica; editors always read the primary.

        Editors must see their own writes at once, and a replica may lag behind.
        """
        if self.reader is not None and not self.viewer.sees_unpublished:
            return self.reader
        return self.sessionmaker

    @property
    def reads_private(self) -> bool:
        """Private fields (an author's e-mail) are for editors and admins only."""
        return self.viewer.sees_unpublished

    def expire_at(self, when: datetime | None) -> None:
        """A field's value changes at ``when`` by itself: the whole answer expires then."""
        if when is not None and (self.expires_at is None or when < self.expires_at):
            self.expires_at = when

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A short read session for one root resolver, at most MAX_SESSIONS_PER_REQUEST at once.

        Never nest them: a resolver holding one must not wait for another.
        """
        async with self._session_slots, self.read_sessionmaker() as session:
            yield session

    def primary_session(self) -> AsyncSession:
        """A session on the primary, for mutations."""
        return self.sessionmaker()


Info = strawberry.Info[Context, None]
