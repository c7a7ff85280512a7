"""The ASGI application factory; the engine and start-up work live in the lifespan."""

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.types import ASGIApp

from models.columns import Clock, utcnow
from models.db import SessionMaker, make_engine, make_sessionmaker
from models.migrate import upgrade
from models.services.seed import load_seed
from models.services.webhook_delivery import WebhookDispatcher
from schema.limits import QueryLimits
from schema.persisted import DocumentPolicy
from schema.root import build_schema
from schema.subscriptions.broker import Broker
from server.cache import ResponseCache
from server.errors import internal_error
from server.graphiql import ASSETS_PATH, VersionedStaticFiles
from server.graphql import GRAPHQL_PATH, GraphQLView
from server.hits import CachedHits
from server.metrics import METRICS_PATH, Metrics, MetricsMiddleware
from server.middleware import REQUEST_ID_HEADER, RequestIdMiddleware
from server.raw_readers import RawReaders
from server.settings import Settings
from server.websocket import SubscriptionView

logger = logging.getLogger("vestnik")

READY_TIMEOUT_SECONDS = 2.0


def create_app(
    settings: Settings | None = None,
    *,
    engine: AsyncEngine | None = None,
    freeze_heap: bool = False,
    clock: Clock = utcnow,
) -> Starlette:
    """Build the app; pass ``engine`` to share one the caller owns (tests).

    ``clock``: what "now" is for each request's reads and for the response cache (tests
    move a clock instead of sleeping).

    ``freeze_heap`` (a served process's app, ``app_from_environment``): once started, move
    everything alive (the schema, its plans' types, SQLAlchemy's metadata, modules) out of
    the garbage collector's sight with ``gc.freeze()``. Those objects live as long as the
    process, yet every full collection walked them all; a request makes hundreds of
    objects, so collections are frequent (README: Benchmarks, uncached reads 20-40% faster).
    Off for apps made per test, which start and stop many times in one process.
    """
    settings = settings or Settings()
    owns_engine = engine is None
    engine = engine or make_engine(
        settings.database_url, statement_timeout_ms=settings.statement_timeout_ms
    )
    sessionmaker = make_sessionmaker(engine)
    replicas = [
        make_engine(url, statement_timeout_ms=settings.statement_timeout_ms)
        for url in settings.database_replica_urls
    ]
    cache = (
        ResponseCache(engine, sessionmaker, settings.response_cache_max_bytes, clock=clock)
        if settings.response_cache and settings.response_cache_max_bytes > 0
        else None
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            await upgrade(engine)
        if settings.seed_on_start:
            async with sessionmaker() as session:
                if await load_seed(session):
                    logger.info("empty database: loaded the seed content")
        try:
            async with contextlib.AsyncExitStack() as running:
                if cache is not None:
                    await running.enter_async_context(cache.running())
                # Webhook deliveries are sent in the background, never inside a request.
                await running.enter_async_context(
                    webhook_dispatcher(settings, sessionmaker).running()
                )
                # Subscriptions hear of every process's changes (PostgreSQL) or this one's.
                await running.enter_async_context(broker.running(engine))
                if raw_readers is not None:
                    await running.enter_async_context(raw_readers.running())
                if freeze_heap:
                    running.callback(gc.unfreeze)
                    gc.collect()
                    gc.freeze()
                yield
        finally:
            for replica in replicas:
                await replica.dispose()
            if owns_engine:
                await engine.dispose()

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        try:
            async with asyncio.timeout(READY_TIMEOUT_SECONDS):
                async with engine.connect() as connection:
                    await connection.execute(sa.text("SELECT 1"))
        except Exception:
            logger.warning("readiness check failed", exc_info=True)
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    # Outside the GraphQL view, so never rate limited; see server/metrics.py.
    metrics = Metrics() if settings.metrics else None
    limits = QueryLimits.from_settings(settings)
    schema = build_schema(limits, DocumentPolicy.from_settings(settings))
    raw_readers = (
        RawReaders(engine, statement_timeout_ms=settings.statement_timeout_ms)
        if settings.compiled_queries
        else None
    )
    graphql = GraphQLView(
        schema,
        sessionmaker=sessionmaker,
        settings=settings,
        cache=cache,
        raw_readers=raw_readers,
        readers=[make_sessionmaker(replica) for replica in replicas],
        metrics=metrics,
        graphql_ide="graphiql" if settings.graphiql else None,
        clock=clock,
    )
    broker = Broker(sessionmaker)
    routes: list[BaseRoute] = [
        Route(GRAPHQL_PATH, graphql, methods=["GET", "POST"]),
        WebSocketRoute(
            GRAPHQL_PATH,
            SubscriptionView(
                graphql.schema, broker=broker, sessionmaker=sessionmaker, settings=settings
            ),
        ),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
    ]
    if settings.graphiql:
        routes.append(Mount(ASSETS_PATH, VersionedStaticFiles(), name="graphiql-assets"))
    if metrics is not None:
        routes.append(Route(METRICS_PATH, metrics.endpoint, methods=["GET"]))
    middleware = []
    if settings.cors_allow_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_allow_origins,
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type", REQUEST_ID_HEADER],
                expose_headers=[REQUEST_ID_HEADER, "Retry-After"],
            )
        )
    app = VestnikApp(
        routes=routes,
        middleware=middleware,
        exception_handlers={Exception: internal_error},
        lifespan=lifespan,
    )
    app.state.engine = engine
    app.state.metrics = metrics
    app.state.cache = cache
    app.state.raw_readers = raw_readers
    app.state.graphql = graphql
    app.state.replicas = replicas
    return app


class VestnikApp(Starlette):
    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        # Outside Starlette's error middleware too, so its 500s are timed and counted.
        metrics: Metrics | None = getattr(self.state, "metrics", None)
        if metrics is not None:
            stack = MetricsMiddleware(stack, metrics, self.routes)
        # Outside even Starlette's error middleware, so every response has the id.
        stack = RequestIdMiddleware(stack)
        # Outermost: a response-cache hit skips all of the above (server/hits.py).
        graphql: GraphQLView | None = getattr(self.state, "graphql", None)
        if graphql is not None and graphql.cache is not None:
            stack = CachedHits(stack, graphql, graphql.cache)
        return stack


def webhook_dispatcher(settings: Settings, sessionmaker: SessionMaker) -> WebhookDispatcher:
    return WebhookDispatcher(
        sessionmaker,
        timeout_seconds=settings.webhook_timeout_seconds,
        max_attempts=settings.webhook_max_attempts,
        retry_base_seconds=settings.webhook_retry_base_seconds,
        allow_private_addresses=settings.webhook_allow_private_addresses,
    )


def app_from_environment() -> Starlette:
    """Factory for ``uvicorn --factory``: settings from the environment; the process
    serves this one app, so its start-up heap is frozen (``create_app``)."""
    return create_app(Settings(), freeze_heap=True)
