"""The GraphQL HTTP endpoint: request decoding, per-request context, error bodies."""

from typing import Any

import orjson
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from models.db import SessionMaker
from schema.context import Context

MAX_JSON_DEPTH = 64


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
        await response(scope, receive, send)

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        return Context(sessionmaker=self.sessionmaker)

    def decode_json(self, data: str | bytes) -> object:
        """Parse a request body; anything but a JSON object or list of objects is a 400."""
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError as error:
            message = (
                "Request body is not valid UTF-8"
                if "UTF-8" in str(error) or "surrogate" in str(error)
                else "Request body is not valid JSON"
            )
            raise HTTPException(400, message) from None
        if isinstance(value, list):
            if not all(isinstance(item, dict) for item in value):
                raise HTTPException(400, "Each operation in a batch must be a JSON object")
        elif not isinstance(value, dict):
            raise HTTPException(400, "Request body must be a JSON object")
        return value

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


def error_response(message: str, status_code: int) -> Response:
    return JSONResponse({"errors": [{"message": message}]}, status_code=status_code)
