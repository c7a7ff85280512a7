"""The ``vestnik`` command: serve, migrate, seed, token, schema, documents, import, export."""

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
import uvicorn
from sqlmodel.ext.asyncio.session import AsyncSession

from models.db import make_engine, make_sessionmaker
from models.errors import DomainError
from models.migrate import upgrade
from models.services import documents, tokens
from models.services.seed import load_seed
from models.viewer import Role
from schema.export import SCHEMA_FILE, schema_sdl, write_schema
from schema.limits import QueryLimits
from schema.persisted import document_problems
from schema.root import build_schema
from server.logs import configure_logging
from server.metrics import multiprocess_directory
from server.settings import Settings
from server.transfer import export_command, import_command

T = TypeVar("T")
WORKER_START_SECONDS = 30

cli = typer.Typer(
    help="Vestnik: a headless content API for news and office contacts.", no_args_is_help=True
)


@cli.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Bind address [default: VESTNIK_HOST or 127.0.0.1]")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port [default: VESTNIK_PORT or 8000]")] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="Worker processes [default: VESTNIK_WORKERS or 1]"),
    ] = None,
) -> None:
    """Run the API server (migrates and seeds an empty database first)."""
    if workers is not None:
        os.environ["VESTNIK_WORKERS"] = str(workers)
    settings = Settings()
    # uvicorn applies the same configuration again in each worker process.
    log_config = configure_logging(settings)
    if settings.workers > 1 and (settings.migrate_on_start or settings.seed_on_start):
        # Once, here, rather than in every worker at the same time; the workers read the
        # environment, so they skip it.
        asyncio.run(_start_once(settings))
        os.environ["VESTNIK_MIGRATE_ON_START"] = "false"
        os.environ["VESTNIK_SEED_ON_START"] = "false"
    with multiprocess_directory(settings.workers):
        uvicorn.run(
            "server.app:app_from_environment",
            factory=True,
            host=host or settings.host,
            port=port or settings.port,
            workers=settings.workers,
            # A worker that has not answered the supervisor within this many seconds is
            # killed; importing the app takes longer than uvicorn's 5 s on a busy machine.
            timeout_worker_healthcheck=WORKER_START_SECONDS,
            log_config=log_config,
            log_level=settings.log_level.lower(),
            lifespan="on",
            # Typed int, but only handed to asyncio.wait_for, which takes seconds as a float.
            timeout_graceful_shutdown=settings.shutdown_grace_seconds,  # type: ignore[arg-type]
            # The app reads X-Forwarded-For itself, and only with VESTNIK_TRUST_FORWARDED_FOR.
            proxy_headers=False,
            # Sans-I/O websockets (no legacy-API deprecation warnings); messages as big as bodies.
            ws="websockets-sansio",
            # h11 even where httptools is installed: at the end of the grace period httptools
            # answers a cut-off request with a plain-text 500, h11 closes the connection.
            http="h11",
            ws_max_size=settings.max_body_bytes,
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


async def _start_once(settings: Settings) -> None:
    """What each server does on start, done by the parent of several workers instead."""
    engine = make_engine(settings.database_url)
    try:
        if settings.migrate_on_start:
            await upgrade(engine)
        if settings.seed_on_start:
            async with make_sessionmaker(engine)() as session:
                await load_seed(session)
    finally:
        await engine.dispose()


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


schema_cli = typer.Typer(help="The GraphQL schema as SDL.", no_args_is_help=True)
cli.add_typer(schema_cli, name="schema")


@schema_cli.command("export")
def schema_export(
    output: Annotated[
        Path,
        typer.Option(help="Where to write it; - for stdout", show_default="schema/schema.graphql"),
    ] = SCHEMA_FILE,
) -> None:
    """Write the schema's SDL (commit schema/schema.graphql after changing the API)."""
    if str(output) == "-":
        typer.echo(schema_sdl(), nl=False)
        return
    write_schema(output)
    typer.echo(f"schema written to {output}", err=True)


documents_cli = typer.Typer(
    help="Trusted GraphQL documents: what anonymous callers may run when "
    "VESTNIK_TRUSTED_DOCUMENTS_ONLY is on.",
    no_args_is_help=True,
)
cli.add_typer(documents_cli, name="documents")


@documents_cli.command("add")
def documents_add(
    files: Annotated[
        list[Path],
        typer.Argument(help="GraphQL files; each is stored exactly as written", exists=True),
    ],
) -> None:
    """Check documents against the schema and limits, store them as trusted, print hashes.

    Clients send a document's hash as extensions.persistedQuery.sha256Hash, or its exact text.
    """
    limits = QueryLimits.from_settings(Settings())
    schema = build_schema(limits)
    bodies = []
    for path in files:
        try:
            body = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            typer.echo(f"error: {path}: {error}", err=True)
            raise typer.Exit(1) from None
        problems = document_problems(schema, body, limits)
        if problems:
            for problem in problems:
                typer.echo(f"error: {path}: {problem}", err=True)
            raise typer.Exit(1)
        bodies.append(body)

    async def add_all(session: AsyncSession) -> None:
        for path, body in zip(files, bodies, strict=True):
            try:
                document = await documents.add_trusted(session, body=body)
            except DomainError as error:
                typer.echo(f"error: {path}: {error.message}", err=True)
                raise typer.Exit(1) from None
            typer.echo(document.hash)
            typer.echo(f"{path}: trusted", err=True)

    asyncio.run(_with_session(add_all))


@documents_cli.command("list")
def documents_list() -> None:
    """Every trusted document: hash, when it was added, its first line."""
    rows = asyncio.run(_with_session(documents.list_trusted))
    if not rows:
        typer.echo("no trusted documents")
    for row in rows:
        first_line = next((line.strip() for line in row.body.splitlines() if line.strip()), "")
        typer.echo(f"{row.hash}\t{row.created_at:%Y-%m-%d %H:%M}\t{first_line[:60]}")


# Feeds and backups: the commands live in server/transfer.py.
cli.command("import")(import_command)
cli.command("export")(export_command)


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
