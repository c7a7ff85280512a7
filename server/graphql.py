"""The GraphQL HTTP endpoint: request decoding, per-request context, error bodies."""

from typing import Any

import orjson
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http.types import QueryParams

from models.db import SessionMaker
from models.errors import AccessDenied
from schema.context import Context
from server.auth import authenticate
from server.graphiql import graphiql_response


class GraphQLView(GraphQL[Context, None]):
    def __init__(self, *args: Any, sessionmaker: SessionMaker, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sessionmaker = sessionmaker

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope, receive))
        except HTTPException as error:
            response = error_response(error.reason, error.status_code)
        except AccessDenied as error:
            response = error_response(error.message, 401, code=error.code)
            response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        await response(scope, receive, send)

    async def render_graphql_ide(self, request: Request) -> Response:
        """Called only when an IDE is enabled; our GraphiQL loads nothing from the internet."""
        if self.graphql_ide != "graphiql":
            return await super().render_graphql_ide(request)
        return graphiql_response(request.scope.get("root_path", ""))

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        viewer = await authenticate(request, self.sessionmaker)
        return Context(sessionmaker=self.sessionmaker, viewer=viewer)

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
        raise HTTPException(400, f"{what} is not valid JSON") from None


def error_response(message: str, status_code: int, code: str | None = None) -> Response:
    error: dict[str, Any] = {"message": message}
    if code is not None:
        error["extensions"] = {"code": code}
    return JSONResponse({"errors": [error]}, status_code=status_code)
