"""``vestnik import`` and ``vestnik export`` run as a user runs them: real processes."""

import subprocess
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from tests.server.running import COMMAND_TIMEOUT_SECONDS, VESTNIK, environment, vestnik

pytestmark = pytest.mark.anyio

DATA = Path(__file__).resolve().parents[1] / "data"
RSS = str(DATA / "belta.rss.xml")
ATOM = str(DATA / "kopyl.atom.xml")
BROKEN = str(DATA / "broken.rss.xml")


def env_for(url: str) -> dict[str, str]:
    return environment(database_url=url)


def url_of(engine: AsyncEngine) -> str:
    return engine.url.render_as_string(hide_password=False)


async def emptied(engine: AsyncEngine, tmp_path: Path) -> str:
    """The URL of an empty, migrated-on-first-use database of the engine's kind."""
    if engine.dialect.name == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'restored.db'}"
    tables = ", ".join(table.name for table in SQLModel.metadata.sorted_tables)
    async with engine.begin() as connection:
        await connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    return url_of(engine)


def vestnik_with_input(
    text: str, *args: str, cwd: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*VESTNIK, *args],
        input=text,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_SECONDS,
        check=False,
    )


def article_rows(backup: bytes) -> list[list[object]]:
    tables = orjson.loads(backup)["tables"]
    rows: list[list[object]] = next(t["rows"] for t in tables if t["name"] == "article")
    return rows


async def test_a_feed_imports_once_and_says_so(engine: AsyncEngine, tmp_path: Path) -> None:
    env = env_for(url_of(engine))

    # when
    first = vestnik("import", RSS, cwd=tmp_path, env=env)
    again = vestnik("import", RSS, cwd=tmp_path, env=env)
    atom = vestnik("import", ATOM, "--publish", "--language", "en", cwd=tmp_path, env=env)

    # then
    assert (first.returncode, first.stdout, first.stderr) == (
        0,
        f"{RSS}: 2 new articles (drafts)\n",
        "",  # no progress bar off a terminal
    )
    assert (again.returncode, again.stdout) == (
        0,
        f"{RSS}: nothing new: 2 entries imported before\n",
    )
    assert (atom.returncode, atom.stdout) == (0, f"{ATOM}: 2 new articles (published)\n")


async def test_a_malformed_feed_fails_and_writes_nothing(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    env = env_for(url_of(engine))

    # when
    broken = vestnik("import", BROKEN, cwd=tmp_path, env=env)
    missing = vestnik("import", "nowhere.xml", cwd=tmp_path, env=env)

    # then
    assert (broken.returncode, broken.stdout, broken.stderr) == (
        1,
        "",
        f"error: {BROKEN}: Not well-formed XML (line 4, column 18: mismatched tag); "
        "nothing was imported\n",
    )
    assert (missing.returncode, missing.stderr) == (
        1,
        "error: nowhere.xml: No such file or directory\n",
    )
    exported = vestnik("export", "-", cwd=tmp_path, env=env)
    assert exported.returncode == 0 and article_rows(exported.stdout.encode()) == []


async def test_a_bad_entry_is_named_and_fails_the_run(engine: AsyncEngine, tmp_path: Path) -> None:
    # given
    feed = tmp_path / "mixed.xml"
    feed.write_text(
        '<rss version="2.0"><channel><title>Mixed</title>'
        "<item><title>Good</title><link>https://a.by/1</link></item>"
        "<item><title>Linkless</title></item></channel></rss>"
    )

    # when
    result = vestnik("import", str(feed), cwd=tmp_path, env=env_for(url_of(engine)))

    # then
    assert (result.returncode, result.stdout, result.stderr) == (
        1,
        f"{feed}: 1 new article (drafts), 1 failed\n",
        "error: Linkless: the entry has no link, so it could not be imported again safely\n",
    )


async def test_export_then_import_restores_the_same_bytes(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    # given
    env = env_for(url_of(engine))
    assert vestnik("import", RSS, "--publish", cwd=tmp_path, env=env).returncode == 0
    first = vestnik("export", "backup.json", cwd=tmp_path, env=env)
    assert (first.returncode, first.stdout) == (0, "")
    assert first.stderr.startswith("exported 4 rows from ")
    backup = (tmp_path / "backup.json").read_bytes()
    assert len(article_rows(backup)) == 2
    assert (tmp_path / "backup.json").stat().st_mode & 0o077 == 0  # webhook secrets inside

    # when: refused while the database holds content, then restored into an empty one
    refused = vestnik("import", "backup.json", cwd=tmp_path, env=env)
    restored_env = env_for(await emptied(engine, tmp_path))
    restored = vestnik("import", "backup.json", cwd=tmp_path, env=restored_env)

    # then
    assert (refused.returncode, refused.stdout) == (1, "")
    assert refused.stderr.startswith("error: backup.json: The database is not empty (rows in ")
    assert (restored.returncode, restored.stderr) == (0, "")
    assert restored.stdout.startswith("restored 4 rows into ")
    again = vestnik("export", "-", cwd=tmp_path, env=restored_env)
    assert again.stdout.encode() == backup


async def test_a_backup_can_come_from_stdin(engine: AsyncEngine, tmp_path: Path) -> None:
    # given
    source = tmp_path / "source.db"
    source_env = env_for(f"sqlite+aiosqlite:///{source}")
    assert vestnik("import", ATOM, cwd=tmp_path, env=source_env).returncode == 0
    backup = vestnik("export", "-", cwd=tmp_path, env=source_env).stdout

    # when: into the engine's database (SQLite or PostgreSQL)
    env = env_for(url_of(engine))
    result = vestnik_with_input(backup, "import", "-", cwd=tmp_path, env=env)

    # then
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith("restored 4 rows into ")
    assert vestnik("export", "-", cwd=tmp_path, env=env).stdout == backup
