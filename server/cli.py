"""The ``vestnik`` command: serve, migrate, seed."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
import uvicorn
from sqlmodel.ext.asyncio.session import AsyncSession

from models.db import make_engine, make_sessionmaker
from models.errors import DomainError
from models.migrate import upgrade
from models.services import tokens
from models.services.seed import load_seed
from models.viewer import Role
from server.settings import Settings

T = TypeVar("T")

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


token_cli = typer.Typer(help="API tokens for editors and admins.", no_args_is_help=True)
cli.add_typer(token_cli, name="token")


@token_cli.command("create")
def token_create(
    name: Annotated[str, typer.Option(help='Who holds it, e.g. "Press office"')],
    role: Annotated[Role, typer.Option(help="editor or admin")] = Role.EDITOR,
) -> None:
    """Issue a token and print it once; only its hash is stored."""
    try:
        token, secret = asyncio.run(
            _with_session(lambda s: tokens.create_token(s, name=name, role=role))
        )
    except DomainError as error:
        typer.echo(f"error: {error.message}", err=True)
        raise typer.Exit(1) from None
    typer.echo(secret)
    typer.echo(f"token '{token.name}' ({token.role}) created; it is shown only now", err=True)


@token_cli.command("list")
def token_list() -> None:
    """Every token: name, role, created, revoked."""
    rows = asyncio.run(_with_session(tokens.list_tokens))
    if not rows:
        typer.echo("no tokens")
    for row in rows:
        state = f"revoked {row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "active"
        typer.echo(f"{row.name}\t{row.role}\tcreated {row.created_at:%Y-%m-%d %H:%M}\t{state}")


@token_cli.command("revoke")
def token_revoke(name: Annotated[str, typer.Argument(help="The token's name")]) -> None:
    """Revoke a token: requests that send it are refused from now on."""
    try:
        asyncio.run(_with_session(lambda s: tokens.revoke_token(s, name=name)))
    except DomainError as error:
        typer.echo(f"error: {error.message}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"token '{name}' revoked")


async def _with_session(use_case: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run one use case against the configured database (migrated first)."""
    engine = make_engine(Settings().database_url)
    try:
        await upgrade(engine)
        async with make_sessionmaker(engine)() as session:
            return await use_case(session)
    finally:
        await engine.dispose()


def main() -> None:
    cli()
