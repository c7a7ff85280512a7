"""End to end: the real ``vestnik`` command in a subprocess, spoken to over real HTTP.

The one place the lifespan runs for real: migrations on start, the seed on an empty
database, the default ``./vestnik.db``, and ``VESTNIK_DATABASE_URL`` switching to PostgreSQL.
"""

import asyncio
import sqlite3

import httpx
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

from models.db import make_engine
from models.migrate import alembic_config
from models.services.seed import ARTICLE_SLUG, ARTICLE_TITLE, OFFICE
from tests.server.running import environment, serving, vestnik

SEED_QUERY = """
query Seed($article: String!, $office: String!) {
  article(slug: $article) { title sourceName publishedAt tags { slug } }
  office(slug: $office) {
    name
    address { formatted }
    phones { e164 }
    hoursText
    wednesdayMorning: isOpen(at: "2024-01-10T10:00:00+03:00")
    wednesdayLunch: isOpen(at: "2024-01-10T13:30:00+03:00")
    sunday: isOpen(at: "2024-01-14T10:00:00+03:00")
  }
  articles { totalCount }
  offices { totalCount }
}
"""

SEED_PAYLOAD = {
    "data": {
        "article": {
            "title": ARTICLE_TITLE,
            "sourceName": "BelTA",
            "publishedAt": "2023-11-23T10:00:00+00:00",
            "tags": [{"slug": "csto"}],
        },
        "office": {
            "name": "Kopyl District Executive Committee",
            "address": {"formatted": "223927, Minsk region, Kopyl, Lenin square, 6"},
            "phones": [
                {"e164": "+375171928260"},
                {"e164": "+375171955241"},
                {"e164": "+375171928260"},
            ],
            "hoursText": "Mon-Fri 08:30-17:30, lunch 13:00-14:00",
            "wednesdayMorning": True,
            "wednesdayLunch": False,
            "sunday": False,
        },
        "articles": {"totalCount": 1},
        "offices": {"totalCount": 1},
    }
}
SEED_VARIABLES = {"article": ARTICLE_SLUG, "office": OFFICE.slug}


def query_seed(base_url: str) -> dict[str, object]:
    response = httpx.post(
        f"{base_url}/graphql", json={"query": SEED_QUERY, "variables": SEED_VARIABLES}, timeout=10
    )
    assert response.status_code == 200
    return response.json()


def head_revision() -> str:
    [head] = ScriptDirectory.from_config(alembic_config()).get_heads()
    return head


def test_serve_without_configuration_uses_vestnik_db_in_the_working_directory(tmp_path):
    # given: an empty directory and no VESTNIK_* settings at all
    site = tmp_path / "site"
    site.mkdir()
    log = tmp_path / "serve.log"

    # when
    with serving(site, environment(), log) as base_url:
        ready = httpx.get(f"{base_url}/readyz", timeout=5)
        body = query_seed(base_url)
        graphiql = httpx.get(f"{base_url}/graphql", headers={"accept": "text/html"}, timeout=5)

    # then: migrated, seeded and served from ./vestnik.db
    assert (ready.status_code, ready.json()) == (200, {"status": "ok"})
    assert body == SEED_PAYLOAD
    assert "GraphiQL" in graphiql.text
    assert (site / "vestnik.db").is_file()
    with sqlite3.connect(site / "vestnik.db") as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [
            (head_revision(),)
        ]
    assert "loaded the seed content" in log.read_text()


def test_serve_again_keeps_the_data_and_does_not_reseed(tmp_path):
    # given: a directory the server has already run in once
    site = tmp_path / "site"
    site.mkdir()
    log = tmp_path / "serve.log"
    with serving(site, environment(), log):
        pass
    first_log = log.read_text()

    # when
    with serving(site, environment(), log) as base_url:
        body = query_seed(base_url)

    # then: the same single office and article
    assert body == SEED_PAYLOAD
    assert log.read_text().count("loaded the seed content") == 1
    assert "loaded the seed content" in first_log


def test_migrate_then_seed_commands(tmp_path):
    # given
    database = tmp_path / "cli.db"
    env = environment(database_url=f"sqlite+aiosqlite:///{database}")

    # when
    migrated = vestnik("migrate", cwd=tmp_path, env=env)
    migrated_again = vestnik("migrate", cwd=tmp_path, env=env)
    with sqlite3.connect(database) as db:
        offices_after_migrate = db.execute("SELECT count(*) FROM office").fetchone()
    seeded = vestnik("seed", cwd=tmp_path, env=env)
    seeded_again = vestnik("seed", cwd=tmp_path, env=env)

    # then
    outcomes = [
        (run.returncode, run.stdout.strip())
        for run in (migrated, migrated_again, seeded, seeded_again)
    ]
    assert outcomes == [
        (0, "database is up to date"),
        (0, "database is up to date"),
        (0, "seed content loaded"),
        (0, "database not empty: seed skipped"),
    ], [run.stderr for run in (migrated, migrated_again, seeded, seeded_again)]
    assert offices_after_migrate == (0,)
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [
            (head_revision(),)
        ]
        assert db.execute("SELECT slug FROM office").fetchall() == [(OFFICE.slug,)]
        assert db.execute("SELECT slug FROM article").fetchall() == [(ARTICLE_SLUG,)]
    assert not (tmp_path / "vestnik.db").exists()


def test_seed_command_on_a_fresh_database_migrates_first(tmp_path):
    # given: no database file at all
    env = environment(database_url=f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")

    # when
    seeded = vestnik("seed", cwd=tmp_path, env=env)

    # then
    assert (seeded.returncode, seeded.stdout.strip()) == (0, "seed content loaded"), seeded.stderr


def test_cli_without_a_command_shows_help(tmp_path):
    # when
    result = vestnik(cwd=tmp_path, env=environment())

    # then: typer's no_args_is_help exits with 2 after the usage text
    assert "serve" in result.stdout + result.stderr
    assert "migrate" in result.stdout + result.stderr
    assert not (tmp_path / "vestnik.db").exists()


async def _empty_postgres(url: str) -> None:
    """Other tests leave rows behind; start this one from an empty database so the seed loads."""
    engine = make_engine(url)
    try:
        tables = ", ".join(table.name for table in SQLModel.metadata.sorted_tables)
        async with engine.begin() as connection:
            await connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


async def _office_slugs(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            return list((await connection.execute(sa.text("SELECT slug FROM office"))).scalars())
    finally:
        await engine.dispose()


def test_serve_on_postgresql(postgres_url, tmp_path):
    # given: an empty PostgreSQL database named by VESTNIK_DATABASE_URL
    asyncio.run(_empty_postgres(postgres_url))
    site = tmp_path / "site"
    site.mkdir()
    log = tmp_path / "serve.log"

    # when
    with serving(site, environment(database_url=postgres_url), log) as base_url:
        ready = httpx.get(f"{base_url}/readyz", timeout=5)
        body = query_seed(base_url)

    # then: the seed went into PostgreSQL, and no SQLite file appeared
    assert (ready.status_code, ready.json()) == (200, {"status": "ok"})
    assert body == SEED_PAYLOAD
    assert asyncio.run(_office_slugs(postgres_url)) == [OFFICE.slug]
    assert not (site / "vestnik.db").exists()


def test_serve_with_several_workers_migrates_and_seeds_once(tmp_path):
    # given: a fresh database and two workers
    database = tmp_path / "workers.db"
    env = environment(database_url=f"sqlite+aiosqlite:///{database}", workers="2")
    log = tmp_path / "serve.log"

    # when
    with serving(tmp_path, env, log) as base_url:
        answers = [
            httpx.get(f"{base_url}/graphql", params={"query": "{ offices { nodes { slug } } }"})
            for _ in range(4)
        ]

    # then: the parent migrated and seeded before the workers started
    text = log.read_text()
    assert text.count("Running upgrade  -> 0001") == 1, text
    assert text.count("Started server process") == 2, text
    assert {answer.json()["data"]["offices"]["nodes"][0]["slug"] for answer in answers} == {
        OFFICE.slug
    }
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM office").fetchone() == (1,)
