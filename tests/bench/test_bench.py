"""The benchmark's generator and limit baseline (bench/), on the test PostgreSQL.

The generator must be deterministic (the same seed gives the same rows) and write content the
app would accept; the baseline must answer exactly what our GraphQL API answers, or the
benchmark's ratios compare different work.
"""

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from bench import baseline, generate, runner
from models.db import make_engine, make_sessionmaker
from models.inputs import SLUG_PATTERN
from models.phones import normalize_phone
from models.rendering import render_markdown
from models.services import tokens
from models.viewer import Role
from server.app import create_app
from server.settings import Settings

pytestmark = [pytest.mark.anyio, pytest.mark.postgresql_only]

ARTICLES = 50

# One digest per table, in a fixed order, over every column.
DIGEST = """
SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table} t
"""
TABLES = (
    "article", "article_author", "article_tag", "author", "tag", "office", "office_phone",
    "office_hours", "office_exception",
)  # fmt: skip


async def _empty(connection: asyncpg.Connection) -> None:
    tables = await connection.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
        "AND tablename <> 'alembic_version'"
    )
    names = ", ".join(f'"{row["tablename"]}"' for row in tables)
    await connection.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


async def _digests(connection: asyncpg.Connection) -> dict[str, str]:
    return {table: await connection.fetchval(DIGEST.format(table=table)) for table in TABLES}


@pytest.fixture
async def generated(postgres_url: str) -> AsyncIterator[str]:
    """The test database holding the generator's 50 articles (emptied before and after)."""
    connection = await asyncpg.connect(generate.asyncpg_dsn(postgres_url))
    try:
        await _empty(connection)
        await generate.load(postgres_url, ARTICLES, quiet=True)
        yield postgres_url
        await _empty(connection)
    finally:
        await connection.close()


async def test_generator_is_deterministic_and_writes_valid_content(generated: str) -> None:
    connection = await asyncpg.connect(generate.asyncpg_dsn(generated))
    try:
        first = await _digests(connection)
        await _empty(connection)
        await generate.load(generated, ARTICLES, quiet=True)
        assert await _digests(connection) == first

        articles = await connection.fetch("SELECT * FROM article ORDER BY id")
        counts = {
            table: await connection.fetchval(f"SELECT count(*) FROM {table}")
            for table in ("author", "tag", "office")
        }
        phones = await connection.fetch("SELECT number FROM office_phone")
        no_search = await connection.fetchval(
            "SELECT count(*) FROM article WHERE search_vector IS NULL"
        )
        bylines = await connection.fetchval("SELECT count(DISTINCT article_id) FROM article_author")
        next_id = await connection.fetchval(
            "SELECT nextval(pg_get_serial_sequence('article','id'))"
        )
    finally:
        await connection.close()

    assert len(articles) == ARTICLES
    assert counts == {"author": 200, "tag": 50, "office": 30}
    for article in articles:
        assert 3_000 <= len(article["body"].encode()) <= 6_000
        assert article["body_html"] == render_markdown(article["body"])
        assert re.fullmatch(SLUG_PATTERN, article["slug"])
        assert article["language"] in ("be", "ru")
        if article["status"] == "draft":
            assert article["published_at"] is None
    statuses = {a["status"] for a in articles}
    assert "published" in statuses and "draft" in statuses
    assert all(normalize_phone(row["number"]) == row["number"] for row in phones)
    assert no_search == 0
    assert bylines == ARTICLES
    assert next_id == ARTICLES + 1  # sequences reset after COPY: the app can insert


async def _graphql(
    client: httpx.AsyncClient, name: str, variables: Any, headers: dict[str, str]
) -> Any:
    params = {"query": runner.document(name)}
    if variables:
        params["variables"] = json.dumps(variables)
    headers = {"accept": "application/json", **headers}
    response = await client.get("/graphql", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_baseline_answers_what_the_api_answers(generated: str) -> None:
    engine = make_engine(generated)
    app = create_app(Settings(migrate_on_start=False, seed_on_start=False), engine=engine)
    transport = httpx.ASGITransport(app=app)
    pool = await asyncpg.create_pool(generate.asyncpg_dsn(generated), min_size=1, max_size=2)
    try:
        slug = await pool.fetchval(
            "SELECT slug FROM article WHERE status = 'published' AND published_at <= now() "
            "ORDER BY id LIMIT 1"
        )
        cases = {
            "list_page": None,
            "article_by_slug": {"slug": slug},
            "offices": None,
            "search": {"q": generate.search_words()},
            "deep": None,
            "editor_list_page": None,
        }
        async with make_sessionmaker(engine)() as session:
            _token, secret = await tokens.create_token(session, name="bench", role=Role.EDITOR)
        facts = {"editor_token": secret}
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            for name, variables in cases.items():
                headers = runner.headers_for("uncached", name, facts)
                expected = await _graphql(client, name, variables, headers)
                answer = await baseline.respond(pool, name, variables or {})
                assert "errors" not in expected
                assert json.loads(answer) == expected, name
        assert expected["data"]["articles"]["nodes"][0]["publishedAt"] is None  # a draft, first
    finally:
        await pool.close()
        await engine.dispose()
