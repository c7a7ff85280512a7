"""Errors the HTTP layer answers itself, in GraphQL's shape so clients parse one format.

Every body is ``{"errors": [{"message", "extensions": {"code", "requestId"}}]}``; the
request id is also in the ``X-Request-ID`` header and in the server's log line.
"""

import logging
import math

from starlette.requests import Request
from starlette.responses import JSONResponse

from server.middleware import request_id

logger = logging.getLogger("vestnik.http")

# The code a status gets when the caller names none.
CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED",
    500: "INTERNAL_SERVER_ERROR",
    503: "SERVICE_UNAVAILABLE",
    504: "TIMEOUT",
}


def error_response(
    request_id: str,
    message: str,
    status_code: int,
    code: str | None = None,
    *,
    retry_after: float | None = None,
) -> JSONResponse:
    """A JSON error; ``retry_after`` (seconds) becomes a whole-second ``Retry-After``."""
    extensions = {"code": code or CODES.get(status_code, "BAD_REQUEST"), "requestId": request_id}
    response = JSONResponse(
        {"errors": [{"message": message, "extensions": extensions}]}, status_code=status_code
    )
    if retry_after is not None:
        response.headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    return response


def internal_error_response(request_id: str, error: BaseException) -> JSONResponse:
    """The masked answer to a bug: the client gets the id, the log gets the whole story."""
    logger.error("unexpected error %s", request_id, exc_info=error)
    return error_response(request_id, "Internal server error", 500)


async def internal_error(request: Request, error: Exception) -> JSONResponse:
    """Starlette's last-resort handler (``exception_handlers={Exception: ...}``)."""
    return internal_error_response(request_id(request.scope), error)
