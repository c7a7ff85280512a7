"""The ASGI application factory; the engine and start-up work live in the lifespan."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount, Route

from models.db import make_engine, make_sessionmaker
from models.migrate import upgrade
from models.services.seed import load_seed
from schema.root import build_schema
from server.graphiql import ASSETS_PATH, VersionedStaticFiles
from server.graphql import GraphQLView
from server.settings import Settings

logger = logging.getLogger("vestnik")

READY_TIMEOUT_SECONDS = 2.0


def create_app(settings: Settings | None = None, *, engine: AsyncEngine | None = None) -> Starlette:
    """Build the app; pass ``engine`` to share one the caller owns (tests)."""
    settings = settings or Settings()
    owns_engine = engine is None
    engine = engine or make_engine(settings.database_url)
    sessionmaker = make_sessionmaker(engine)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            await upgrade(engine)
        if settings.seed_on_start:
            async with sessionmaker() as session:
                if await load_seed(session):
                    logger.info("empty database: loaded the seed content")
        try:
            yield
        finally:
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

    graphql = GraphQLView(
        build_schema(),
        sessionmaker=sessionmaker,
        graphql_ide="graphiql" if settings.graphiql else None,
    )
    routes: list[BaseRoute] = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
    ]
    if settings.graphiql:
        routes.append(Mount(ASSETS_PATH, VersionedStaticFiles(), name="graphiql-assets"))
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.engine = engine
    return app


def app_from_environment() -> Starlette:
    """Factory for ``uvicorn --factory``: settings from the environment."""
    return create_app(Settings())
