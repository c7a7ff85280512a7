"""Prometheus metrics at ``/metrics``: requests, latency, GraphQL errors, response cache.

The HTTP layer only states facts on the ASGI scope; :class:`MetricsMiddleware` turns them
into samples once the response is sent, so nothing else needs to know about Prometheus:

* ``scope["state"]["vestnik.operation"]``: the GraphQL operation's name ("" when it has
  none); absent when no operation was read (GraphiQL's page, a refused request);
* ``scope["state"]["vestnik.error_codes"]``: the ``extensions.code`` of each GraphQL error
  ("" for an error without one);
* the response cache calls ``request.app.state.metrics.count_cache(...)`` (``None`` when
  ``VESTNIK_METRICS`` is off).

Each app has its own :class:`CollectorRegistry` (tests build many apps in one process).
Label values come from clients (operation names), so they are bounded: names that are not
1-64 characters of ``[A-Za-z0-9_]``, and any name past the first ``MAX_LABEL_VALUES``
distinct ones, count as ``other``.

With several worker processes ``vestnik serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at a
fresh directory (:func:`multiprocess_directory`); prometheus_client then keeps the values
in files there and any worker's ``/metrics`` adds up all of them.
"""

import contextlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Collection, Iterable, Iterator
from typing import Literal

from graphql import GraphQLError
from graphql.language import Lexer, Source, TokenKind
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

METRICS_PATH = "/metrics"
OPERATION = "vestnik.operation"
ERROR_CODES = "vestnik.error_codes"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

CacheResult = Literal["hit", "miss", "store"]
CACHE_RESULTS: frozenset[str] = frozenset(("hit", "miss", "store"))
# How a GraphQL request over HTTP was answered: by a plan (schema/compiled), or executed.
ReadPath = Literal["planned", "executed"]

# A GraphQL request whose operation was never read, and one whose operation has no name.
NO_OPERATION = "-"
ANONYMOUS = "anonymous"
# An error without extensions.code: graphql-core's own (a syntax or validation error).
NO_CODE = "NO_CODE"
OTHER = "other"
MAX_LABEL_VALUES = 200
_LABEL = re.compile(r"[A-Za-z0-9_]{1,64}")
# Seconds; the request deadline defaults to 10 s, so the top bucket is a timed-out request.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class BoundedLabels:
    """Label values as given while they are sane and few; ``other`` past that."""

    def __init__(self, limit: int = MAX_LABEL_VALUES) -> None:
        self.limit = limit
        self.seen: set[str] = set()

    def __call__(self, value: str) -> str:
        if not _LABEL.fullmatch(value):
            return OTHER
        if value not in self.seen:
            if len(self.seen) >= self.limit:
                return OTHER
            self.seen.add(value)
        return value


class Metrics:
    """This app's metrics; ``render()`` is the body of ``/metrics``."""

    def __init__(self, *, multiprocess: bool | None = None) -> None:
        if multiprocess is None:
            multiprocess = bool(os.environ.get(MULTIPROC_ENV))
        # No ``*_created`` series: they double the output, and multiprocess mode has none,
        # so both modes look the same. (A process-wide switch; nothing else here uses it.)
        disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped upstream
        self.registry = CollectorRegistry()
        # In multiprocess mode the values live in files; a collector reads them all back,
        # so the metrics themselves must not be registered too (they would count twice).
        owner = None if multiprocess else self.registry
        self.requests = Counter(
            "vestnik_http_requests",
            "HTTP requests by GraphQL operation (or route) and status.",
            ["operation", "status"],
            registry=owner,
        )
        self.duration = Histogram(
            "vestnik_http_request_duration_seconds",
            "Time from a request's arrival to the end of its response.",
            ["operation"],
            buckets=BUCKETS,
            registry=owner,
        )
        self.errors = Counter(
            "vestnik_graphql_errors",
            "GraphQL errors by extensions.code.",
            ["code"],
            registry=owner,
        )
        self.cache = Counter(
            "vestnik_response_cache",
            "Response cache lookups (hit, miss) and responses stored (store).",
            ["result"],
            registry=owner,
        )
        self.reads = Counter(
            "vestnik_graphql_reads",
            "GraphQL requests answered by a plan (planned) or by the executor (executed).",
            ["path"],
            registry=owner,
        )
        self._read_series = {path: self.reads.labels(path) for path in ("planned", "executed")}
        if multiprocess:
            MultiProcessCollector(self.registry)  # type: ignore[no-untyped-call]  # untyped upstream
        else:
            ProcessCollector(registry=self.registry)
        self.operation_label = BoundedLabels()
        self.code_label = BoundedLabels()
        # The labelled series, looked up once each: ``labels()`` takes a lock and builds a
        # tuple every time, which is a good part of a response-cache hit's cost. Bounded,
        # as the label values are.
        self._request_series: dict[tuple[str, int], tuple[Counter, Histogram]] = {}
        self._cache_series: dict[str, Counter] = {}

    def observe_request(self, operation: str, status: int, seconds: float) -> None:
        """One finished request; ``operation`` is a label already (see ``operation_for``)."""
        series = self._request_series.get((operation, status))
        if series is None:
            series = self.requests.labels(operation, str(status)), self.duration.labels(operation)
            self._request_series[operation, status] = series
        series[0].inc()
        series[1].observe(seconds)

    def label_for(self, operation: str) -> str:
        """The ``operation`` label of a GraphQL operation's name ("": it has none)."""
        return self.operation_label(operation) if operation else ANONYMOUS

    def count_errors(self, codes: Iterable[str]) -> None:
        for code in codes:
            self.errors.labels(self.code_label(str(code)) if code else NO_CODE).inc()

    def count_read(self, path: ReadPath) -> None:
        self._read_series[path].inc()

    def count_cache(self, result: CacheResult) -> None:
        series = self._cache_series.get(result)
        if series is None:
            if result not in CACHE_RESULTS:
                raise ValueError(f"unknown cache result {result!r}")
            series = self._cache_series[result] = self.cache.labels(result)
        series.inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)

    async def endpoint(self, request: Request) -> Response:
        """``GET /metrics``: counts and timings only, nothing about clients or content."""
        return Response(self.render(), media_type=CONTENT_TYPE_LATEST)


class MetricsMiddleware:
    """Time every HTTP request and count it by operation and status (``/metrics`` aside).

    Plain ASGI, outside Starlette's error middleware, so a 500 is counted like any other.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics, routes: Iterable[BaseRoute]) -> None:
        self.app = app
        self.metrics = metrics
        # The first path segment of each route: the only non-GraphQL labels there can be.
        self.segments = frozenset(
            _first_segment(route.path) for route in routes if isinstance(route, Route | Mount)
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == METRICS_PATH:
            await self.app(scope, receive, send)
            return
        state: dict[str, object] = scope.setdefault("state", {})
        status = 500  # if the app raises before answering, the server sends a 500
        started = time.perf_counter()

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            elapsed = time.perf_counter() - started
            self.metrics.observe_request(self.operation_for(scope["path"], state), status, elapsed)
            codes = state.get(ERROR_CODES)
            if isinstance(codes, list):
                self.metrics.count_errors(codes)

    def operation_for(self, path: str, state: dict[str, object]) -> str:
        """The ``operation`` label: GraphQL operation name, or the route for everything else."""
        operation = state.get(OPERATION)
        if isinstance(operation, str):
            return self.metrics.label_for(operation)
        segment = _first_segment(path)
        if segment == "graphql":
            return NO_OPERATION
        return segment.replace("-", "_") if segment in self.segments else OTHER


def _first_segment(path: str) -> str:
    return path.lstrip("/").partition("/")[0]


def note_operation(scope: Scope, name: str | None, query: str | None = None) -> None:
    """For the GraphQL view: the operation this request runs (None: it has no name).

    Pass the document as ``query`` so that an operation the client did not name in
    ``operationName`` is counted under the name the document gives it.
    """
    scope.setdefault("state", {})[OPERATION] = operation_name(query, name) or ""


def operation_name(query: str | None, given: str | None = None) -> str | None:
    """The name to count a request under: ``operationName``, else the document's first.

    Scans tokens up to the first operation instead of parsing the whole document again;
    None for an unnamed operation or a document that does not lex.
    """
    if given or not query:
        return given or None
    tokens = Lexer(Source(query))
    braces = parens = 0
    in_fragment = False
    try:
        token = tokens.advance()
        while token.kind is not TokenKind.EOF:
            top = braces == 0 and parens == 0
            if token.kind is TokenKind.BRACE_L:
                if top and not in_fragment:
                    return None  # the "{ ... }" shorthand: an anonymous query
                braces += 1
            elif token.kind is TokenKind.BRACE_R:
                braces -= 1
                in_fragment = in_fragment and not (braces == 0 and parens == 0)
            elif token.kind is TokenKind.PAREN_L:
                parens += 1
            elif token.kind is TokenKind.PAREN_R:
                parens -= 1
            elif top and token.kind is TokenKind.NAME and not in_fragment:
                if token.value == "fragment":
                    in_fragment = True
                elif token.value in ("query", "mutation", "subscription"):
                    following = tokens.advance()
                    return following.value if following.kind is TokenKind.NAME else None
            token = tokens.advance()
    except GraphQLError:
        return None
    return None


def note_error_codes(scope: Scope, codes: Collection[str]) -> None:
    """For the GraphQL view: the ``extensions.code`` of each error in the response."""
    scope.setdefault("state", {}).setdefault(ERROR_CODES, []).extend(codes)


@contextlib.contextmanager
def multiprocess_directory(workers: int) -> Iterator[None]:
    """With several workers, share metrics through a fresh directory for this run.

    Set before the workers start (they inherit the environment and read it when they
    import prometheus_client); removed when the server stops. A directory the operator set
    in ``PROMETHEUS_MULTIPROC_DIR`` is used as it is and kept.
    """
    if workers <= 1 or os.environ.get(MULTIPROC_ENV):
        yield
        return
    directory = tempfile.mkdtemp(prefix="vestnik-metrics-")
    os.environ[MULTIPROC_ENV] = directory
    try:
        yield
    finally:
        del os.environ[MULTIPROC_ENV]
        shutil.rmtree(directory, ignore_errors=True)
