"""The response cache: encoded answers to anonymous queries, kept until content changes.

An entry is the exact bytes sent, keyed by what determines them: the document (or its
persisted hash), the operation name, the variables and the response media type. A GET is
keyed by its raw query string, so a lookup parses nothing (parameters in another order are
another entry, as for a CDN); a POST by its body. Only
anonymous requests are cached, so no draft can be in an entry. An entry is served only
while all of these hold:

- the content version it was filled at is still the current one. This process learns of
  new versions at once from its own commits (``events.local_bus``); on PostgreSQL other
  processes' commits arrive through LISTEN/NOTIFY, and while that connection is down the
  cache is not used at all. SQLite has no notifications, so there the version is read
  from the database on every lookup (cheap, and right with several processes);
- the next scheduled article has not gone public since (it changes content without a
  commit);
- its own expiry has not passed: answers with time-dependent fields (an office's
  ``isOpen``) expire when that answer would change.
"""

import asyncio
import contextlib
import hashlib
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import unquote_to_bytes

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine

from models.columns import Clock, utcnow
from models.db import SessionMaker, is_sqlite
from models.services import events

logger = logging.getLogger("vestnik.cache")


@dataclass(frozen=True)
class Entry:
    body: bytes
    media_type: str
    etag: str
    version: int
    # Wall-clock instant after which the answer may differ, if any.
    expires_at: datetime | None
    # The operation it answers, for metrics (None: not known).
    operation: str | None = None

    @property
    def size(self) -> int:
        return len(self.body) + 200  # the key, the object and the dict slot


def entity_tag(body: bytes) -> str:
    """A strong ETag: the same bytes always get the same tag, in every process."""
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def cache_key(*parts: object) -> str | None:
    """What determines an anonymous answer, hashed; None when it cannot be encoded."""
    try:
        material = orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return None
    return hashlib.blake2b(material, digest_size=20).hexdigest()


def get_cache_key(query_string: bytes, graphql_response: bool) -> str | None:
    """The key of an anonymous GET; None when it names nothing to run (GraphiQL's page).

    ``graphql_response``: the client prefers ``application/graphql-response+json``.
    """
    if not _runs_something(query_string):
        return None
    material = (b"GET 1 " if graphql_response else b"GET 0 ") + query_string
    return hashlib.blake2b(material, digest_size=20).hexdigest()


# The GET parameters that make a request run an operation (a persisted query has only
# ``extensions``).
_RUN_PARAMETERS = (b"query", b"extensions")
_RUN_PREFIXES = tuple(name + b"=" for name in _RUN_PARAMETERS)
_RUN_INFIXES = tuple(b"&" + name + b"=" for name in _RUN_PARAMETERS)


def _runs_something(query_string: bytes) -> bool:
    """A ``query`` or ``extensions`` parameter is present, its name decoded as Starlette's
    ``QueryParams`` (``parse_qsl``) decodes it, without decoding any value."""
    # The usual spellings first: a value cannot hold a raw "&", so these are names.
    if query_string.startswith(_RUN_PREFIXES) or any(s in query_string for s in _RUN_INFIXES):
        return True
    for field in query_string.split(b"&"):
        name = field.partition(b"=")[0]
        if b"%" in name or b"+" in name:
            name = unquote_to_bytes(name.replace(b"+", b" "))
        if name in _RUN_PARAMETERS:
            return True
    return False


class ResponseCache:
    """An LRU of encoded responses bounded by bytes, valid for one content version."""

    def __init__(
        self,
        engine: AsyncEngine,
        sessionmaker: SessionMaker,
        max_bytes: int,
        *,
        clock: Clock = utcnow,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.max_bytes = max_bytes
        self.database = events.database_name(engine.url)
        # SQLite: read the version on each lookup. PostgreSQL: trust notifications once the
        # listening connection is up.
        self.poll_version = is_sqlite(engine)
        self.engine = engine
        self.trusted = self.poll_version
        self.version: int | None = None
        self.valid_until: datetime | None = None
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._bytes = 0
        self._refresh = asyncio.Lock()
        self._stale = True  # the version/schedule must be read before the next lookup

    # --- being told about changes ---

    def changed(self, event: events.ContentEvent) -> None:
        """A content event, from this process or (PostgreSQL) another one."""
        if event.database == self.database and event.version:
            self._reset()

    def connected(self) -> None:
        """The notification connection is up: from now on nothing is missed."""
        self._reset()
        self.trusted = True

    def lost(self) -> None:
        self.trusted = self.poll_version
        self._reset()

    def _reset(self) -> None:
        self._entries.clear()
        self._bytes = 0
        self._stale = True

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Listen for changes while the app runs."""
        unsubscribe = events.local_bus.subscribe(self.changed)
        try:
            async with events.listen(self.engine, self.changed, self.connected, on_lost=self.lost):
                yield
        finally:
            unsubscribe()

    # --- lookups ---

    async def current(self) -> int | None:
        """The content version answers are valid for now; None: do not use the cache."""
        if not self.trusted:
            return None
        now = self.clock()
        if self.poll_version or self._stale or (self.valid_until and now >= self.valid_until):
            async with self._refresh:
                await self._read_state(now)
        return self.version

    def known_version(self) -> int | None:
        """What ``current()`` returns when it need not read the database; else None.

        The same tests as ``current()``, the clock read only when a publication is due.
        """
        if not self.trusted or self.poll_version or self._stale:
            return None
        if self.valid_until is not None and self.clock() >= self.valid_until:
            return None
        return self.version

    async def _read_state(self, now: datetime) -> None:
        stale = self._stale
        self._stale = False
        async with self.sessionmaker() as session:
            version = await events.current_version(session)
            if version != self.version or stale or (self.valid_until and now >= self.valid_until):
                self._reset()
                self._stale = False
                self.version = version
                self.valid_until = await events.next_scheduled_publication(session, now)

    def get(self, key: str, version: int) -> Entry | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.version != version or (entry.expires_at and self.clock() >= entry.expires_at):
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return entry

    def put(self, key: str, entry: Entry) -> bool:
        """Keep ``entry`` if nothing changed since it was computed; True if kept."""
        if entry.version != self.version or self._stale or not self.trusted:
            return False
        if entry.size > self.max_bytes // 8:  # one huge answer must not flush the rest
            return False
        if self.valid_until is not None:
            expires = entry.expires_at
            entry = replace(
                entry, expires_at=min(expires, self.valid_until) if expires else self.valid_until
            )
        self._drop(key)
        self._entries[key] = entry
        self._bytes += entry.size
        while self._bytes > self.max_bytes and self._entries:
            _, oldest = self._entries.popitem(last=False)
            self._bytes -= oldest.size
        return True

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= entry.size

    def seconds_valid(self, entry_expires: datetime | None) -> float | None:
        """How long an answer stays right at most (for Cache-Control), None: until a change."""
        limits = [t for t in (entry_expires, self.valid_until) if t is not None]
        if not limits:
            return None
        return max(0.0, (min(limits) - self.clock()).total_seconds())
