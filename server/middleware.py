"""ASGI pieces below the GraphQL view: request ids and a body-size limit.

Both are plain ASGI (no ``BaseHTTPMiddleware``): they must see every response,
including Starlette's own 404s and 500s, and must not buffer bodies.
"""

import os
import re
from contextvars import ContextVar

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "X-Request-ID"
# An id a client or proxy sends is kept only if it cannot smuggle anything into a log line.
_ACCEPTED_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
# The id of the request this task is handling, for log lines (see server/logs.py).
current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)


def request_id(scope: Scope) -> str:
    """This request's id; one is made up if the request did not pass the middleware."""
    state: dict[str, object] = scope.setdefault("state", {})
    value = state.get("request_id")
    if not isinstance(value, str):
        value = state["request_id"] = new_request_id()
    return value


def accepted_request_id(incoming: str | None) -> str:
    """The id a request goes by: the one it came with if that is sane, else a new one."""
    return incoming if incoming and _ACCEPTED_ID.fullmatch(incoming) else new_request_id()


# A random (version 4) UUID's fixed bits: the version nibble and the RFC 4122 variant.
_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_UUID4_SET = (4 << 76) | (0x8000 << 48)


def new_request_id() -> str:
    """``uuid.uuid4().hex``, without building a UUID object (a good part of a cache hit)."""
    return f"{int.from_bytes(os.urandom(16)) & _UUID4_CLEAR | _UUID4_SET:032x}"


class RequestIdMiddleware:
    """Give each HTTP request an id and put it on the response as ``X-Request-ID``.

    A sane incoming ``X-Request-ID`` (a proxy's) is kept, so one id follows the request
    through every log; otherwise a new one is made. While the request is handled the id is
    in ``current_request_id``, which puts it on every log line (uvicorn's access line too:
    it is written from inside ``send``).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        value = accepted_request_id(Headers(scope=scope).get(REQUEST_ID_HEADER))
        scope.setdefault("state", {})["request_id"] = value

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = value
            await send(message)

        token = current_request_id.set(value)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            current_request_id.reset(token)


class BodyTooLarge(Exception):
    """The request body is longer than the limit (said so in advance, or found while reading)."""


def declared_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length")
    return int(value) if value is not None and value.isdigit() else None


def limit_body(scope: Scope, receive: Receive, max_bytes: int) -> Receive:
    """``receive`` that raises ``BodyTooLarge`` once the body passes ``max_bytes``.

    The bytes are counted as they arrive, so a chunked body or a ``Content-Length`` that
    lies is cut off at the limit too. (Starlette's ``RequestBodyLimitMiddleware`` does the
    same counting but answers in plain text; our clients get a JSON error.)
    """
    declared = declared_length(scope)
    received = 0

    async def receive_limited() -> Message:
        nonlocal received
        if declared is not None and declared > max_bytes:
            raise BodyTooLarge
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > max_bytes:
                raise BodyTooLarge
        return message

    return receive_limited
