"""Response-cache hits answered before the middleware stack: the hot path of a busy site.

A repeated anonymous GET (a page view, mostly) is answered from the response cache with
bytes encoded long ago. Through the whole stack (request ids, metrics, Starlette's error
middleware and router, Starlette ``Request`` and ``Response`` objects, the GraphQL view's
admission limits and deadline) the bookkeeping cost more than the answer: a hit ran at
about 40% of what uvicorn can send. Here a hit is a few lookups and two ``send`` calls.

Everything else goes to the normal stack unchanged, and so does anything in doubt:
misses, POST, WebSockets, other paths, editors (``Authorization``), cross-origin requests
when CORS is on (CORSMiddleware adds their headers), a cache that must read the database
first (always on SQLite; on PostgreSQL right after a change), a request the rate limit or
the concurrency limit refuses (the normal stack asks again and answers 429 or 503; a
refused request spends no budget, so it is not charged twice).

A hit answered here must be indistinguishable from one answered by
``HttpCaching.answer``: the same status, body and headers (built by the same helpers), the
same admission (``Admission.admits_anonymous_get``), ``X-Request-ID`` as
:class:`server.middleware.RequestIdMiddleware` gives it, and the same metrics.
tests/server/test_hits.py compares the two.
"""

import time

from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from server.cache import Entry, ResponseCache
from server.graphql import GRAPHQL_PATH, GraphQLView
from server.http_caching import VARY, etag_matches, get_key, public_headers
from server.middleware import accepted_request_id, current_request_id

RawHeaders = list[tuple[bytes, bytes]]


class CachedHits:
    """Answer ``GET /graphql`` response-cache hits of anonymous requests; pass on the rest."""

    def __init__(self, app: ASGIApp, view: GraphQLView, cache: ResponseCache) -> None:
        self.app = app
        self.view = view
        self.cache = cache
        self.settings = view.settings
        self.metrics = view.metrics
        self.cors = bool(view.settings.cors_allow_origins)
        # CORSMiddleware adds Origin to Vary on every response, even without an Origin.
        self.vary = (VARY + ", Origin" if self.cors else VARY).encode("latin-1")
        # Cache-Control of an answer valid until content changes (most of them).
        self.control = public_headers(self.settings, "", None)["Cache-Control"].encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or scope["path"] != GRAPHQL_PATH
            or scope.get("root_path")  # routes see the path without it; leave that to them
        ):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        hit = self._hit(scope)
        if hit is None:
            await self.app(scope, receive, send)
            return
        entry, request_id, if_none_match = hit
        status, headers, body = self._response(entry, if_none_match)
        headers.append((b"x-request-id", request_id.encode("latin-1")))
        token = current_request_id.set(request_id)  # log lines, uvicorn's access line too
        try:
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        finally:
            current_request_id.reset(token)
            if self.metrics is not None and entry.operation is not None:
                label = self.metrics.label_for(entry.operation)
                self.metrics.observe_request(label, status, time.perf_counter() - started)

    def _hit(self, scope: Scope) -> tuple[Entry, str, str | None] | None:
        """The entry, request id and ``If-None-Match`` of a hit to answer here, else None.

        Charges the rate limit and counts the hit, so nothing may fall through after it.
        """
        headers = Headers(scope=scope)
        if "authorization" in headers or (self.cors and "origin" in headers):
            return None
        key = get_key(scope["query_string"], headers.get("accept", ""))
        version = self.cache.known_version()
        if key is None or version is None:
            return None
        entry = self.cache.get(key, version)
        if entry is None or (entry.operation is None and self.metrics is not None):
            return None  # a miss; or the operation must be read from the document
        if not self.view.admission.admits_anonymous_get(HTTPConnection(scope)):
            return None
        if self.metrics is not None:
            self.metrics.count_cache("hit")
        request_id = accepted_request_id(headers.get("x-request-id"))
        scope.setdefault("state", {})["request_id"] = request_id
        return entry, request_id, headers.get("if-none-match")

    def _response(self, entry: Entry, if_none_match: str | None) -> tuple[int, RawHeaders, bytes]:
        """Status, headers and body, the headers in the order the full path sends them."""
        seconds_valid = self.cache.seconds_valid(entry.expires_at)
        if seconds_valid is None:
            control = self.control
        else:
            public = public_headers(self.settings, entry.etag, seconds_valid)
            control = public["Cache-Control"].encode("latin-1")
        etag = entry.etag.encode("latin-1")
        if etag_matches(if_none_match, entry.etag):
            return 304, [(b"etag", etag), (b"cache-control", control), (b"vary", self.vary)], b""
        headers = [
            (b"content-length", str(len(entry.body)).encode("latin-1")),
            (b"content-type", entry.media_type.encode("latin-1")),
            (b"vary", self.vary),
            (b"etag", etag),
            (b"cache-control", control),
        ]
        return 200, headers, entry.body
