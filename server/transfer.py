"""``vestnik import`` and ``vestnik export``: feeds and backups in, backups out.

Command glue only: reading files, progress bars and messages. What is imported and how
lives in ``models.services.feeds`` and ``models.services.backup``.
"""

import asyncio
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlmodel.ext.asyncio.session import AsyncSession

from models.article import Language
from models.db import make_engine, make_sessionmaker
from models.errors import DomainError
from models.migrate import upgrade
from models.services import backup, feeds
from server.settings import Settings

T = TypeVar("T")

QuietOption = Annotated[
    bool, typer.Option("--quiet", "-q", help="No progress bar (none is shown off a terminal)")
]


def import_command(
    file: Annotated[
        str,
        typer.Argument(help="An RSS or Atom file, or a backup made by vestnik export; - for stdin"),
    ],
    publish: Annotated[
        bool,
        typer.Option(
            "--publish", help="Publish feed entries (at their own date) instead of drafts"
        ),
    ] = False,
    source_name: Annotated[
        str | None, typer.Option(help="Source name of feed entries [default: the feed's title]")
    ] = None,
    language: Annotated[Language, typer.Option(help="Language of feed entries")] = Language.RU,
    quiet: QuietOption = False,
) -> None:
    """Import a feed's new entries as articles, or restore a backup into an empty database.

    Entries whose link is already an article's source URL are skipped: import a feed any time.

    A backup (a JSON file from vestnik export) is restored whole, ids included, or not at all.
    """
    data = _read(file)
    file = "stdin" if file == "-" else file
    if data.lstrip()[:1] == b"{":
        _restore(file, data, quiet)
    else:
        _import_feed(file, data, publish, source_name, language, quiet)


def export_command(
    file: Annotated[str, typer.Argument(help="Where to write the backup (JSON); - for stdout")],
    quiet: QuietOption = False,
) -> None:
    """Write a backup of everything in the database: content, history, tokens, webhooks."""
    if file == "-":
        counts = _run(lambda s: backup.export_backup(s, sys.stdout.buffer, progress=None))
    else:
        target = Path(file)
        # Written beside the target and renamed at the end: never half a backup under its name.
        handle = tempfile.NamedTemporaryFile(
            "wb", dir=target.parent, prefix=f".{target.name}.", delete=False
        )
        try:
            with handle, _progress(quiet, "exporting") as progress:
                counts = _run(lambda s: backup.export_backup(s, handle, progress=progress))
            os.replace(handle.name, target)
        except BaseException:
            Path(handle.name).unlink(missing_ok=True)
            raise
    total = sum(counts.values())
    typer.echo(f"exported {total} rows from {len(counts)} tables to {file}", err=True)


def _restore(file: str, data: bytes, quiet: bool) -> None:
    try:
        with _progress(quiet, "restoring") as progress:
            restored = _run(lambda s: backup.import_backup(s, data, progress=progress))
    except DomainError as error:
        _fail(f"{file}: {error.message}")
    typer.echo(f"restored {restored.total} rows into {len(restored.rows)} tables from {file}")


def _import_feed(
    file: str, data: bytes, publish: bool, source_name: str | None, language: Language, quiet: bool
) -> None:
    try:
        feed = feeds.parse_feed(data)
    except DomainError as error:
        _fail(f"{file}: {error.message}")
    with _progress(quiet, "importing") as progress:
        report = _run(
            lambda s: feeds.import_feed(
                s,
                feed=feed,
                language=language,
                publish=publish,
                source_name=source_name,
                progress=progress,
            )
        )
    for entry, reason in report.failed:
        typer.echo(f"error: {entry.title or entry.link or '(untitled entry)'}: {reason}", err=True)
    state = "published" if publish else "drafts"
    summary = f"{_count(len(report.created), 'new article')} ({state})"
    if report.skipped:
        summary += f", {len(report.skipped)} already imported"
    if report.failed:
        summary += f", {len(report.failed)} failed"
    if not feed.entries:
        summary = "the feed has no entries"
    elif not report.created and not report.failed:
        summary = f"nothing new: {_count(len(report.skipped), 'entry', 'entries')} imported before"
    typer.echo(f"{file}: {summary}")
    if report.failed:
        raise typer.Exit(1)


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def _read(file: str) -> bytes:
    if file == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(file).read_bytes()
    except OSError as error:
        _fail(f"{file}: {error.strerror or error}")


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


class _Bar:
    """models.services.backup.Progress on a rich progress bar."""

    def __init__(self, progress: Progress, label: str) -> None:
        self._progress = progress
        self._task = progress.add_task(label, total=None)

    def start(self, total: int) -> None:
        self._progress.update(self._task, total=total)

    def advance(self, rows: int) -> None:
        self._progress.advance(self._task, rows)


@contextmanager
def _progress(quiet: bool, label: str) -> Iterator[backup.Progress | None]:
    console = Console(stderr=True)
    if quiet or not console.is_terminal:
        yield None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        yield _Bar(progress, label)


def _run(use_case: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run one use case against the configured database, migrated first."""

    async def run() -> T:
        engine = make_engine(Settings().database_url)
        try:
            await upgrade(engine)
            async with make_sessionmaker(engine)() as session:
                return await use_case(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())
