"""The compiled query path over HTTP: which requests may take it, and the readers it uses.

``schema/compiled`` answers known anonymous article queries with one statement per root
field; this module feeds it from requests. A request takes that path only when all hold:
it is anonymous, on PostgreSQL, carries its document as text (no ``extensions``, so no
persisted-query handling is skipped), and the same document and operation name were
answered by the regular path without errors before (``admit``). Everything else, and
anything the plan declines at run time, goes through Strawberry as usual.
"""

import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
import strawberry
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request

from models.columns import utcnow
from models.db import SessionMaker
from models.rawdb import RawReader
from schema.compiled import CompiledQueries
from schema.limits import QueryLimits


@dataclass(frozen=True)
class Parts:
    """A plain single request: its document, or the persisted-query hash standing for it."""

    query: str | None
    operation_name: str | None
    variables: Mapping[str, Any] | None
    hash: str | None = None


HASH_LENGTH = 64  # hex digits of a SHA-256


@dataclass(frozen=True)
class Answer:
    body: bytes
    query: str
    operation_name: str | None


class CompiledPath:
    def __init__(
        self,
        schema: strawberry.Schema,
        limits: QueryLimits,
        engine: AsyncEngine,
        *,
        statement_timeout_ms: int | None = None,
    ) -> None:
        self.queries = CompiledQueries(schema, limits)
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

    async def answer(self, request: Request, session_maker: SessionMaker | None) -> Answer | None:
        """The encoded answer, or None: let the regular path run."""
        reader = self.reader(session_maker)
        if reader is None:
            return None
        parts = await request_parts(request)
        if parts is None:
            return None
        query, name = parts.query, parts.operation_name
        if query is None and parts.hash is not None:
            query = self.queries.persisted_query(parts.hash, name)
        if query is None or not self.queries.planned(query, name):
            return None
        body = await self.queries.answer(query, name, parts.variables, reader=reader, now=utcnow())
        return None if body is None else Answer(body, query, name)

    async def admit(self, request: Request, resolved: str | None) -> None:
        """The regular path answered this anonymous request without errors.

        ``resolved``: the text a persisted-query hash stood for, as the regular path found it.
        """
        if self.reader(None) is None:
            return
        parts = await request_parts(request)
        if parts is None:
            return
        if parts.query is not None:
            self.queries.admit(parts.query, parts.operation_name)
        elif parts.hash is not None and resolved is not None:
            self.queries.admit_persisted(parts.hash, resolved, parts.operation_name)


async def request_parts(request: Request) -> Parts | None:
    """Document, operation name and variables of a plain single request; else None."""
    params: Mapping[str, Any]
    if request.method == "GET":
        params = request.query_params
        raw = params.get("variables")
        try:
            variables = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            return None
    else:
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return None
        if not isinstance(body, dict):
            return None  # a batch
        params = body
        variables = body.get("variables")
    query, name = params.get("query"), params.get("operationName")
    if name is not None and (not isinstance(name, str) or not name):
        return None
    if variables is not None and not isinstance(variables, dict):
        return None
    extensions = params.get("extensions")
    if not extensions:
        return Parts(query, name, variables) if isinstance(query, str) else None
    # Only a hash alone: {"persistedQuery": {"version": 1, "sha256Hash": "<64 hex>"}}.
    if query is not None:
        return None
    if request.method == "GET":
        accept = request.headers.get("accept", "")
        if not isinstance(extensions, str) or "text/html" in accept or "*/*" in accept:
            return None  # a GET without a query that accepts HTML gets GraphiQL's page
    try:
        extensions = orjson.loads(extensions) if isinstance(extensions, str) else extensions
    except orjson.JSONDecodeError:
        return None
    hash = _persisted_hash(extensions)
    return None if hash is None else Parts(None, name, variables, hash)


def _persisted_hash(extensions: object) -> str | None:
    if not isinstance(extensions, dict) or set(extensions) != {"persistedQuery"}:
        return None
    persisted = extensions["persistedQuery"]
    if not isinstance(persisted, dict) or set(persisted) != {"version", "sha256Hash"}:
        return None
    hash = persisted["sha256Hash"]
    if persisted["version"] != 1 or type(persisted["version"]) is not int:
        return None
    if not isinstance(hash, str) or len(hash) != HASH_LENGTH:
        return None
    return hash.lower()  # as the regular path reads it; only admitted hashes are ever found
