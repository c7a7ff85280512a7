"""The ``vestnik`` command: serve, migrate, seed."""

import asyncio
import logging
from typing import Annotated

import typer
import uvicorn

from models.db import make_engine, make_sessionmaker
from models.migrate import upgrade
from models.services.seed import load_seed
from server.settings import Settings

cli = typer.Typer(
    help="Vestnik: a headless content API for news and office contacts.", no_args_is_help=True
)


@cli.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Bind address [default: VESTNIK_HOST or 127.0.0.1]")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port [default: VESTNIK_PORT or 8000]")] = None,
) -> None:
    """Run the API server (migrates and seeds an empty database first)."""
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    uvicorn.run(
        "server.app:app_from_environment",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        log_level=settings.log_level.lower(),
        lifespan="on",
    )


@cli.command()
def migrate() -> None:
    """Apply database migrations up to the newest."""
    asyncio.run(_migrate(seed=False))
    typer.echo("database is up to date")


@cli.command()
def seed() -> None:
    """Apply migrations, then load the seed content if the database is empty."""
    loaded = asyncio.run(_migrate(seed=True))
    typer.echo("seed content loaded" if loaded else "database not empty: seed skipped")


async def _migrate(*, seed: bool) -> bool:
    engine = make_engine(Settings().database_url)
    try:
        await upgrade(engine)
        if not seed:
            return False
        async with make_sessionmaker(engine)() as session:
            return await load_seed(session)
    finally:
        await engine.dispose()


def main() -> None:
    cli()
