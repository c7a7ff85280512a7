"""The GraphQL HTTP endpoint: Strawberry's view with Vestnik's decoding, context and results.

A request is admitted by server/admission.py (limits, deadline, refusals), answered
through server/http_caching.py (response cache, replicas, caching headers), and run here:
JSON and query parameters decoded strictly, the per-request context, and results shaped
for GraphQL over HTTP (a request error is a 400 for clients that ask for
``application/graphql-response+json``; a database outage is a 503).
"""

import asyncio
from collections.abc import Sequence
from typing import Any

import orjson
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.types import QueryParams

from models.columns import Clock, utcnow
from models.db import SessionMaker
from schema.context import Context
from server.admission import BUSY_RETRY_SECONDS, DATABASE_RETRY_SECONDS, Admission
from server.auth import authenticate
from server.cache import ResponseCache
from server.errors import error_response
from server.graphiql import graphiql_response
from server.http_caching import (
    ERROR_CODES_ATTR,
    GRAPHQL_RESPONSE_JSON,
    HttpCaching,
    prefers_graphql_response,
)
from server.metrics import Metrics, note_operation
from server.middleware import limit_body, request_id
from server.raw_readers import RawReaders
from server.settings import Settings

# orjson refuses JSON nested deeper than this (arrays and objects together).
MAX_JSON_DEPTH = 1024
GRAPHQL_PATH = "/graphql"


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
        clock: Clock = utcnow,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.cache = cache
        self.metrics = metrics
        self.raw_readers = raw_readers
        self.admission = Admission(settings)
        self.clock = clock
        self.caching = HttpCaching(
            settings, cache=cache, readers=readers, metrics=metrics, clock=clock
        )

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
        """Admit and answer the request, or refuse it; raises nothing but cancellation."""
        return await self.admission.respond(request, self._answer)

    async def _answer(self, request: Request) -> Response:
        return await self.caching.answer(request, self.run)

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
            self.admission.rate_limits.verified(request)
        reader = (
            getattr(request.state, "vestnik_reader", None) if isinstance(request, Request) else None
        )
        context = Context(
            sessionmaker=self.sessionmaker,
            viewer=viewer,
            request_id=request_id(request.scope),
            now=self.clock(),
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


WANTS_GRAPHQL_RESPONSE = "vestnik_wants_graphql_response"


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
