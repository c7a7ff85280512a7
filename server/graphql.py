"""The GraphQL HTTP endpoint: admission limits, request decoding, per-request context, errors.

A request passes, in order: the rate limit (429), the media type (415: a POST must be
JSON, so no HTML form or ``fetch`` without preflight can post a mutation), the
concurrency limit (503 at once rather than a queue), and then, under one deadline (504),
the body-size limit (413) while the body is read, authentication, and execution.
Every refusal is a JSON error with a code and the request id.
"""

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from cross_web import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.types import QueryParams

from models.columns import utcnow
from models.db import DatabaseFailure, SessionMaker, database_failure
from models.errors import AccessDenied
from models.services.events import current_version
from schema.context import Context
from schema.errors import DATABASE_ERRORS
from server.auth import authenticate
from server.cache import Entry, ResponseCache, cache_key, entity_tag, get_cache_key
from server.errors import error_response, internal_error_response
from server.graphiql import graphiql_response
from server.metrics import OPERATION, CacheResult, Metrics, note_error_codes, note_operation
from server.middleware import BodyTooLarge, limit_body, request_id
from server.ratelimit import RateLimits
from server.raw_readers import RawReaders
from server.replicas import Replicas
from server.settings import Settings

logger = logging.getLogger("vestnik.http")

# What a client should wait before retrying when the database is down or we are full.
DATABASE_RETRY_SECONDS = 5
BUSY_RETRY_SECONDS = 1
# orjson refuses JSON nested deeper than this (arrays and objects together).
MAX_JSON_DEPTH = 1024
GRAPHQL_PATH = "/graphql"
# Anonymous answers differ by media type and by whether the client is an editor.
VARY = "Accept, Authorization"


class DeadlineExceeded(Exception):
    """The request ran past ``request_timeout_seconds`` and was cancelled."""


class GraphQLView(GraphQL[Context, None]):
    def __init__(
        self,
        *args: Any,
        sessionmaker: SessionMaker,
        settings: Settings,
        cache: ResponseCache | None = None,
        readers: Sequence[SessionMaker] = (),
        metrics: Metrics | None = None,
        raw_readers: RawReaders | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.cache = cache
        self.metrics = metrics
        self.raw_readers = raw_readers
        # Replicas for anonymous reads, taken in turn.
        self.replicas = Replicas(readers)
        self.rate_limits = RateLimits(
            settings.rate_limit_per_minute,
            settings.editor_rate_limit_per_minute,
            trust_forwarded_for=settings.trust_forwarded_for,
        )
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        limited = limit_body(scope, receive, self.settings.max_body_bytes)
        try:
            response = await self.respond(Request(scope, limited))
        except asyncio.CancelledError:
            # The server stopped waiting for us (shutdown past its grace period): whatever
            # ran and was not committed is rolled back, so tell the client to try again.
            message = (
                "The server is restarting and stopped this request before it finished; try again"
            )
            rid = request_id(scope)
            retry = BUSY_RETRY_SECONDS
            await error_response(rid, message, 503, "SHUTTING_DOWN", retry_after=retry)(
                scope, receive, send
            )
            raise
        await response(scope, receive, send)

    async def respond(self, request: Request) -> Response:
        """Admit and run the request, or refuse it; raises nothing but cancellation."""
        rid = request_id(request.scope)
        if wait := self.rate_limits.check(request):
            return error_response(rid, "Too many requests; slow down", 429, retry_after=wait)
        if request.method == "POST" and not _is_json(request):
            return error_response(rid, "Send GraphQL requests as application/json", 415)
        if self.in_flight >= self.settings.max_concurrent_requests:
            message = "The server is busy; try again shortly"
            return error_response(rid, message, 503, "OVERLOADED", retry_after=BUSY_RETRY_SECONDS)
        self.in_flight += 1
        try:
            return await self.run_before_deadline(request)
        except HTTPException as error:
            return error_response(rid, error.reason, error.status_code)
        except BodyTooLarge:
            limit = self.settings.max_body_bytes
            return error_response(rid, f"Request body is larger than {limit} bytes", 413)
        except DeadlineExceeded:
            seconds = self.settings.request_timeout_seconds
            message = f"The request took longer than {seconds:g} s and was stopped"
            return error_response(rid, message, 504, "TIMEOUT")
        except AccessDenied as error:
            self.rate_limits.refused(request)
            response = error_response(rid, error.message, 401, error.code)
            response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
            return response
        except ClientDisconnect:
            return error_response(rid, "The request body was cut off", 400)
        except Exception as error:
            return database_error_response(rid, error) or internal_error_response(rid, error)
        finally:
            self.in_flight -= 1

    async def run_before_deadline(self, request: Request) -> Response:
        deadline = asyncio.timeout(self.settings.request_timeout_seconds)
        try:
            async with deadline:
                if request.method == "POST":
                    await request.body()  # all of it, within the size limit, before any work
                return await self.run_cached(request)
        except TimeoutError:
            if deadline.expired():
                raise DeadlineExceeded from None
            raise

    async def run_cached(self, request: Request) -> Response:
        """Answer an anonymous query from the response cache, or run it and maybe keep it.

        Also sets the HTTP caching headers: anonymous GET answers are public with an ETag
        (``If-None-Match`` gets 304); anything an editor gets is ``private, no-store``.
        """
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
                        await self._note_operation_of(request)
                    expires = self.cache.seconds_valid(entry.expires_at)
                    cached = Response(entry.body, media_type=entry.media_type)
                    return self._cacheable(request, cached, entry.etag, expires)
                if reader is not None:
                    lagging = await self._lags(request, reader, version)
                    if lagging:
                        version = None  # what the replica answers is not for this version
        response = await self.run(request)
        codes = getattr(response, ERROR_CODES_ATTR, None)
        if reader is not None and codes and "DATABASE_UNAVAILABLE" in codes:
            # The replica failed, not necessarily the database: reads are safe to repeat.
            self.replicas.failed(reader, "a read failed")
            request.state.vestnik_reader = None
            response = await self.run(request)
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
            else _seconds_until(expires_at)
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
        """Headers for an anonymous answer without errors; 304 when the client has it.

        server/hits.py sends the same headers for a cache hit; keep the two in step.
        """
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
        spec = prefers_graphql_response(request.headers.get("accept", ""))
        if request.method == "GET":
            return get_cache_key(request.scope["query_string"], spec)
        body = (await request.body()).decode("utf-8", "replace")
        return cache_key(request.method, body, spec)

    async def _note_operation_of(self, request: Request) -> None:
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

    def _count_cache(self, result: CacheResult) -> None:
        if self.metrics is not None:
            self.metrics.count_cache(result)

    async def execute_operation(self, *args: Any, **kwargs: Any) -> Any:
        request_data = kwargs.get("request_data")
        request = kwargs.get("request")
        if isinstance(request, Request) and isinstance(request_data, GraphQLRequestData):
            note_operation(request.scope, request_data.operation_name, request_data.query)
        return await super().execute_operation(*args, **kwargs)

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        """A result that failed because the database is down is a 503, for retries and probes.

        A client that accepts ``application/graphql-response+json`` (GraphQL over HTTP) gets
        that media type, and a request error (a document that does not parse or validate, or
        a refused one: no field ran) comes back without ``data`` and with status 400. Clients
        asking for ``application/json`` get the traditional 200.
        """
        results = response_data if isinstance(response_data, list) else [response_data]
        spec = getattr(sub_response, WANTS_GRAPHQL_RESPONSE, False)
        request_error = (
            spec and not isinstance(response_data, list) and _is_request_error(response_data)
        )
        if request_error:
            response_data = {k: v for k, v in response_data.items() if k != "data"}  # type: ignore[assignment,union-attr]
        response = super().create_response(response_data, sub_response)
        if spec:
            response.headers["content-type"] = GRAPHQL_RESPONSE_JSON
            if request_error:
                response.status_code = 400
        codes = _error_codes(results)
        if "DATABASE_UNAVAILABLE" in codes:
            response.status_code = 503
            response.headers["Retry-After"] = str(DATABASE_RETRY_SECONDS)
        setattr(response, ERROR_CODES_ATTR, codes)
        return response

    async def render_graphql_ide(self, request: Request) -> Response:
        """Called only when an IDE is enabled; our GraphiQL loads nothing from the internet."""
        if self.graphql_ide != "graphiql":
            return await super().render_graphql_ide(request)
        return graphiql_response(request.scope.get("root_path", ""))

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        if isinstance(request, Request) and prefers_graphql_response(
            request.headers.get("accept", "")
        ):
            setattr(response, WANTS_GRAPHQL_RESPONSE, True)
        viewer = await authenticate(request, self.sessionmaker)
        if viewer.token_name is not None:
            self.rate_limits.verified(request)
        reader = (
            getattr(request.state, "vestnik_reader", None) if isinstance(request, Request) else None
        )
        context = Context(
            sessionmaker=self.sessionmaker,
            viewer=viewer,
            request_id=request_id(request.scope),
            reader=reader,
            planned=self.raw_readers is not None,
            raw_reader=self.raw_readers.reader(reader) if self.raw_readers is not None else None,
            webhook_allow_private_addresses=self.settings.webhook_allow_private_addresses,
        )
        if isinstance(request, Request):
            request.state.vestnik_context = context
        return context

    def decode_json(self, data: str | bytes) -> object:
        """Parse a POST body: a JSON object, or a list of them (a batch); else a 400."""
        value = _loads(data, "Request body")
        if isinstance(value, list):
            if not all(isinstance(item, dict) for item in value):
                raise HTTPException(400, "Each operation in a batch must be a JSON object")
        elif not isinstance(value, dict):
            raise HTTPException(400, "Request body must be a JSON object")
        return value

    def parse_query_params(self, params: QueryParams) -> dict[str, Any]:
        """GET parameters; ``variables`` and ``extensions`` are JSON objects or null."""
        parsed: dict[str, Any] = dict(params)
        for name in ("variables", "extensions"):
            raw = parsed.get(name)
            if raw:
                value = _loads(raw, f"The '{name}' parameter")
                if value is not None and not isinstance(value, dict):
                    raise HTTPException(
                        400, f"The '{name}' parameter must be a JSON object or null"
                    )
                parsed[name] = value
        return parsed

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


def _loads(data: str | bytes, what: str) -> object:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as error:
        if "UTF-8" in str(error) or "surrogate" in str(error):
            raise HTTPException(400, f"{what} is not valid UTF-8") from None
        if "depth limit" in str(error):
            message = f"{what} is nested too deeply (more than {MAX_JSON_DEPTH} levels)"
            raise HTTPException(400, message) from None
        raise HTTPException(400, f"{what} is not valid JSON") from None


GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
WANTS_GRAPHQL_RESPONSE = "vestnik_wants_graphql_response"


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


def _is_request_error(result: GraphQLHTTPResponse) -> bool:
    """No field ran: errors, no data, and no error points at a field's path."""
    errors = result.get("errors") or []
    return (
        bool(errors)
        and result.get("data") is None
        and not any(isinstance(e, dict) and e.get("path") for e in errors)
    )


def _error_codes(results: list[GraphQLHTTPResponse]) -> list[str]:
    """The code of every error in the results ("" for an error without one)."""
    codes = []
    for result in results:
        for error in result.get("errors") or []:
            extensions = error.get("extensions") if isinstance(error, dict) else None
            code = extensions.get("code") if isinstance(extensions, dict) else None
            codes.append(str(code) if code else "")
    return codes


# The response attribute where create_response leaves the result's error codes.
ERROR_CODES_ATTR = "vestnik_error_codes"


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


def _seconds_until(when: datetime | None) -> float | None:
    return None if when is None else max(0.0, (when - utcnow()).total_seconds())


async def _reader_has(reader: SessionMaker, version: int) -> bool:
    """The replica has replayed up to ``version`` (so its answers can be cached under it)."""
    async with reader() as session:
        return await current_version(session) == version


def _is_json(request: Request) -> bool:
    media_type = request.headers.get("content-type", "").partition(";")[0]
    return media_type.strip().lower() == "application/json"


def database_error_response(request_id: str, error: Exception) -> Response | None:
    """A clean 503 or 504 when the database is down or too slow; None for anything else."""
    failure = database_failure(error)
    if failure is None:
        return None
    # The message, not the exception: a kept log record would keep its traceback alive.
    logger.warning("request %s: database %s: %s", request_id, failure.value, str(error))
    message, code = DATABASE_ERRORS[failure]
    if failure is DatabaseFailure.TIMEOUT:
        return error_response(request_id, message, 504, code)
    return error_response(request_id, message, 503, code, retry_after=DATABASE_RETRY_SECONDS)
