"""Who gets into the GraphQL endpoint, and how a request that fails outside GraphQL is told.

A request passes, in order: the rate limit (429), the media type (415: a POST must be
JSON, so no HTML form or ``fetch`` without preflight can post a mutation), the
concurrency limit (503 at once rather than a queue), and then, under one deadline (504),
the body-size limit (413) while the body is read, authentication, and execution.
Every refusal is a JSON error with a code and the request id.

The GraphQL view (server/graphql.py) and the response-cache hits answered before the
middleware stack (server/hits.py) ask the same :class:`Admission`.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from cross_web import HTTPException
from starlette.requests import ClientDisconnect, HTTPConnection, Request
from starlette.responses import Response

from models.db import DatabaseFailure, database_failure
from models.errors import AccessDenied
from schema.errors import DATABASE_ERRORS
from server.errors import error_response, internal_error_response
from server.middleware import BodyTooLarge, request_id
from server.ratelimit import RateLimits
from server.settings import Settings

logger = logging.getLogger("vestnik.http")

# What a client should wait before retrying when the database is down or we are full.
DATABASE_RETRY_SECONDS = 5
BUSY_RETRY_SECONDS = 1

Answer = Callable[[Request], Awaitable[Response]]


class DeadlineExceeded(Exception):
    """The request ran past ``request_timeout_seconds`` and was cancelled."""


class Admission:
    """The endpoint's limits: a rate limit per client and token, and requests in flight."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.rate_limits = RateLimits(
            settings.rate_limit_per_minute,
            settings.editor_rate_limit_per_minute,
            trust_forwarded_for=settings.trust_forwarded_for,
        )
        self.in_flight = 0

    @property
    def full(self) -> bool:
        return self.in_flight >= self.settings.max_concurrent_requests

    def admits_anonymous_get(self, connection: HTTPConnection) -> bool:
        """What :meth:`respond` asks of a GET without ``Authorization``, with no answer
        built: False sends the request to ``respond``, which refuses it.

        The concurrency limit comes first here, so a request refused for it spends no rate
        budget (``respond`` would charge it a second time).
        """
        if self.full:
            return False
        limits = self.rate_limits
        return not (limits.limits_anonymous and limits.check_anonymous(connection))

    async def respond(self, request: Request, answer: Answer) -> Response:
        """Admit the request and ``answer`` it, or refuse it; raises nothing but cancellation."""
        rid = request_id(request.scope)
        if wait := self.rate_limits.check(request):
            return error_response(rid, "Too many requests; slow down", 429, retry_after=wait)
        if request.method == "POST" and not _is_json(request):
            return error_response(rid, "Send GraphQL requests as application/json", 415)
        if self.full:
            message = "The server is busy; try again shortly"
            return error_response(rid, message, 503, "OVERLOADED", retry_after=BUSY_RETRY_SECONDS)
        self.in_flight += 1
        try:
            return await self._before_deadline(request, answer)
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

    async def _before_deadline(self, request: Request, answer: Answer) -> Response:
        deadline = asyncio.timeout(self.settings.request_timeout_seconds)
        try:
            async with deadline:
                if request.method == "POST":
                    await request.body()  # all of it, within the size limit, before any work
                return await answer(request)
        except TimeoutError:
            if deadline.expired():
                raise DeadlineExceeded from None
            raise


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
