"""HTTP caching of GraphQL answers: the response cache, replicas, and the headers caches read.

Anonymous GET answers without errors are public with an ETag (``If-None-Match`` gets
304) and a ``Cache-Control`` no longer than the answer stays right; anything an editor gets
is ``private, no-store``; POST answers and answers with errors are ``no-store``. The
response-cache hits answered before the middleware stack (server/hits.py) send the same
headers, built by :func:`public_headers` and :func:`etag_matches`.
"""

import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

import orjson
from starlette.requests import Request
from starlette.responses import Response

from models.columns import Clock, utcnow
from models.db import SessionMaker, database_failure
from models.services.events import current_version
from schema.context import Context
from server.cache import Entry, ResponseCache, cache_key, entity_tag, get_cache_key
from server.metrics import OPERATION, CacheResult, Metrics, note_error_codes, note_operation
from server.replicas import Replicas
from server.settings import Settings

logger = logging.getLogger("vestnik.http")

# Anonymous answers differ by media type and by whether the client is an editor.
VARY = "Accept, Authorization"
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
# The response attribute where the view's create_response leaves the result's error codes.
ERROR_CODES_ATTR = "vestnik_error_codes"

Run = Callable[[Request], Awaitable[Response]]


class HttpCaching:
    """Answers anonymous queries from the response cache or a replica, and sets the headers."""

    def __init__(
        self,
        settings: Settings,
        *,
        cache: ResponseCache | None = None,
        readers: Sequence[SessionMaker] = (),
        metrics: Metrics | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.cache = cache
        self.metrics = metrics
        # Replicas for anonymous reads, taken in turn.
        self.replicas = Replicas(readers)

    async def answer(self, request: Request, run: Run) -> Response:
        """Answer an anonymous query from the response cache, or ``run`` it and maybe keep it."""
        anonymous = "authorization" not in request.headers
        reader = self.replicas.pick() if anonymous else None
        request.state.vestnik_reader = reader
        key = await self._cache_key(request) if anonymous and self.cache is not None else None
        version = None
        lagging = False
        if key is not None and self.cache is not None:
            try:
                version = await self.cache.current()
            except Exception as error:  # no cache then; running the query reports the cause
                logger.warning("response cache unavailable: %s", database_failure(error) or error)
                version = None
            if version is not None:
                entry = self.cache.get(key, version)
                self._count_cache("hit" if entry else "miss")
                if entry is not None:
                    if entry.operation is not None:
                        note_operation(request.scope, entry.operation)
                    else:
                        await _note_operation_of(request)
                    expires = self.cache.seconds_valid(entry.expires_at)
                    cached = Response(entry.body, media_type=entry.media_type)
                    return self._cacheable(request, cached, entry.etag, expires)
                if reader is not None:
                    lagging = await self._lags(request, reader, version)
                    if lagging:
                        version = None  # what the replica answers is not for this version
        response = await run(request)
        codes = getattr(response, ERROR_CODES_ATTR, None)
        if reader is not None and codes and "DATABASE_UNAVAILABLE" in codes:
            # The replica failed, not necessarily the database: reads are safe to repeat.
            self.replicas.failed(reader, "a read failed")
            request.state.vestnik_reader = None
            response = await run(request)
            codes = getattr(response, ERROR_CODES_ATTR, None)
        if codes is not None:
            note_error_codes(request.scope, codes)
        context: Context | None = getattr(request.state, "vestnik_context", None)
        if self.metrics is not None and context is not None:
            self.metrics.count_read("planned" if context.answered_by_plan else "executed")
        if not anonymous:
            response.headers["Cache-Control"] = "private, no-store"
            return response
        clean = codes == [] and response.status_code == 200 and _is_json_response(response)
        if not clean:
            response.headers["Cache-Control"] = "no-store"
            return response
        body = bytes(response.body)
        etag = entity_tag(body)
        expires_at = context.expires_at if context is not None else None
        if key is not None and version is not None and self.cache is not None:
            media_type = response.headers["content-type"]
            operation = request.scope.get("state", {}).get(OPERATION)
            entry = Entry(body, media_type, etag, version, expires_at, operation)
            if self.cache.put(key, entry):
                self._count_cache("store")
        seconds = (
            self.cache.seconds_valid(expires_at)
            if self.cache is not None
            else _seconds_until(expires_at, self.clock())
        )
        if lagging:
            seconds = 0.0  # possibly behind the primary: caches must ask again next time
        return self._cacheable(request, response, etag, seconds)

    async def _lags(self, request: Request, reader: SessionMaker, version: int) -> bool:
        """The replica has not replayed ``version`` yet; a replica that fails is set aside."""
        try:
            return not await _reader_has(reader, version)
        except Exception as error:
            if database_failure(error) is None:
                raise
            self.replicas.failed(reader, database_failure(error))
            request.state.vestnik_reader = None
            return False

    def _cacheable(
        self, request: Request, response: Response, etag: str, seconds_valid: float | None
    ) -> Response:
        """Headers for an anonymous answer without errors; 304 when the client has it."""
        response.headers["Vary"] = VARY
        if request.method != "GET":
            response.headers["Cache-Control"] = "no-store"  # POST answers are not reusable
            return response
        headers = public_headers(self.settings, etag, seconds_valid)
        if etag_matches(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers=headers)
        response.headers.update(headers)
        return response

    async def _cache_key(self, request: Request) -> str | None:
        """The raw request determines an anonymous answer; None when there is no query."""
        accept = request.headers.get("accept", "")
        if request.method == "GET":
            return get_key(request.scope["query_string"], accept)
        spec = prefers_graphql_response(accept)
        body = (await request.body()).decode("utf-8", "replace")
        return cache_key(request.method, body, spec)

    def _count_cache(self, result: CacheResult) -> None:
        if self.metrics is not None:
            self.metrics.count_cache(result)


async def _note_operation_of(request: Request) -> None:
    """The operation a cached answer was for, for metrics."""
    params: dict[str, object] = {}
    if request.method == "GET":
        params = dict(request.query_params)
    else:
        with contextlib.suppress(orjson.JSONDecodeError):
            body = orjson.loads(await request.body())
            params = body if isinstance(body, dict) else {}
    name, query = params.get("operationName"), params.get("query")
    note_operation(
        request.scope,
        name if isinstance(name, str) else None,
        query if isinstance(query, str) else None,
    )


def get_key(query_string: bytes, accept: str) -> str | None:
    """The response-cache key of an anonymous GET: its raw query string and media type."""
    return get_cache_key(query_string, prefers_graphql_response(accept))


def prefers_graphql_response(accept_header: str) -> bool:
    """The client lists the GraphQL-over-HTTP media type before (or without) plain JSON."""
    if GRAPHQL_RESPONSE_JSON not in accept_header.lower():
        return False  # the common case, without splitting the header
    accept = [part.split(";")[0].strip().lower() for part in accept_header.split(",")]
    if GRAPHQL_RESPONSE_JSON not in accept:
        return False
    return "application/json" not in accept or accept.index(GRAPHQL_RESPONSE_JSON) < accept.index(
        "application/json"
    )


def _is_json_response(response: Response) -> bool:
    media_type = response.headers.get("content-type", "").partition(";")[0].strip()
    return media_type in ("application/json", GRAPHQL_RESPONSE_JSON)


def public_headers(settings: Settings, etag: str, seconds_valid: float | None) -> dict[str, str]:
    """``ETag``, ``Cache-Control`` and ``Vary`` of an anonymous GET answer without errors.

    ``seconds_valid``: how long the answer stays right at most (None: until content
    changes); no cache may keep it, stale or not, past that.
    """
    max_age = settings.cache_max_age_seconds
    stale = settings.cache_stale_while_revalidate_seconds
    if seconds_valid is not None:
        max_age = min(max_age, int(seconds_valid))
        stale = max(0, min(stale, int(seconds_valid) - max_age))
    control = f"public, max-age={max_age}"
    if stale:
        control += f", stale-while-revalidate={stale}"
    return {"ETag": etag, "Cache-Control": control, "Vary": VARY}


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """``If-None-Match`` names this ETag (weak comparison, as RFC 9110 asks for it)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    tags = (tag.strip().removeprefix("W/") for tag in if_none_match.split(","))
    return etag in tags


def _seconds_until(when: datetime | None, now: datetime) -> float | None:
    return None if when is None else max(0.0, (when - now).total_seconds())


async def _reader_has(reader: SessionMaker, version: int) -> bool:
    """The replica has replayed up to ``version`` (so its answers can be cached under it)."""
    async with reader() as session:
        return await current_version(session) == version
