"""The response cache and HTTP caching: fast repeats, and never a draft or a stale answer.

The app runs with its lifespan here (the cache listens for changes while the app runs),
on both databases: SQLite reads the content version per lookup, PostgreSQL is told.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine

from models import ArticleStatus
from models.columns import Clock, utcnow
from models.db import SessionMaker
from models.office import OfficeCreate
from models.opening_hours import DayHours
from models.services.article_edits import update_article
from models.services.offices import create_office
from models.services.tokens import create_token
from models.viewer import Role, Viewer
from schema.node import to_global_id
from server.app import create_app
from server.settings import Settings
from tests.clock import ManualClock
from tests.conftest import QueryCounter
from tests.factories import make_article
from tests.server.running import environment, serving

pytestmark = pytest.mark.anyio

NEWS = "query News { articles(first: 10) { nodes { title } } }"
UPDATE = """
mutation Rename($id: ID!, $version: Int!, $title: String!) {
  updateArticle(id: $id, expectedVersion: $version, input: {title: $title}) {
    article { title } errors { code message }
  }
}
"""
UNPUBLISH = "mutation Hide($id: ID!) { unpublishArticle(id: $id) { errors { code } } }"


@pytest.fixture
async def running(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """HTTP through the app with its lifespan running (so the cache hears of changes)."""
    async with running_at(engine, utcnow) as client:
        yield client


@contextlib.asynccontextmanager
async def running_at(engine: AsyncEngine, clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(migrate_on_start=False, seed_on_start=False, rate_limit_per_minute=0)
    app = create_app(settings, engine=engine, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            # PostgreSQL: the cache is used once its notification connection is up.
            for _ in range(100):
                cache = app.state.cache
                if cache is None or cache.trusted:
                    break
                await asyncio.sleep(0.02)
            yield client


async def editor(sessionmaker: SessionMaker) -> dict[str, str]:
    async with sessionmaker() as session:
        _, secret = await create_token(session, name="Desk", role=Role.EDITOR)
    return {"Authorization": f"Bearer {secret}"}


async def titles(client: httpx.AsyncClient, **headers: str) -> list[str]:
    answer = await client.get("/graphql", params={"query": NEWS}, headers=headers)
    assert answer.status_code == 200, answer.text
    return [node["title"] for node in answer.json()["data"]["articles"]["nodes"]]


async def test_a_repeated_anonymous_query_is_answered_from_the_cache(
    running: httpx.AsyncClient, sessionmaker: SessionMaker, count_queries: QueryCounter
) -> None:
    await make_article(sessionmaker, "Harvest news")
    first = await running.get("/graphql", params={"query": NEWS})
    count_queries.reset()

    second = await running.get("/graphql", params={"query": NEWS})

    assert second.content == first.content
    assert second.headers["etag"] == first.headers["etag"]
    # At most the content version is read (SQLite); the query itself does not run.
    assert len(count_queries.statements) <= 1
    assert all("content_state" in statement for statement in count_queries.statements)


async def test_anonymous_get_answers_are_public_with_an_etag_and_304_when_unchanged(
    running: httpx.AsyncClient, sessionmaker: SessionMaker
) -> None:
    await make_article(sessionmaker, "Harvest news")

    answer = await running.get("/graphql", params={"query": NEWS})
    again = await running.get(
        "/graphql", params={"query": NEWS}, headers={"If-None-Match": answer.headers["etag"]}
    )

    assert answer.headers["cache-control"] == "public, max-age=10, stale-while-revalidate=60"
    assert answer.headers["etag"].startswith('"')
    assert (again.status_code, again.content) == (304, b"")
    assert again.headers["etag"] == answer.headers["etag"]
    assert again.headers["cache-control"] == answer.headers["cache-control"]


async def test_editors_answers_are_private_and_never_reach_anonymous_readers(
    running: httpx.AsyncClient, sessionmaker: SessionMaker
) -> None:
    await make_article(sessionmaker, "Published piece")
    await make_article(sessionmaker, "Secret draft", status=ArticleStatus.DRAFT)
    headers = await editor(sessionmaker)

    editor_answer = await running.get("/graphql", params={"query": NEWS}, headers=headers)
    public = await titles(running)

    assert editor_answer.headers["cache-control"] == "private, no-store"
    assert "etag" not in editor_answer.headers
    assert "Secret draft" in editor_answer.text
    assert public == ["Published piece"]


async def test_an_edit_is_seen_by_the_next_anonymous_read(
    running: httpx.AsyncClient, sessionmaker: SessionMaker
) -> None:
    article = await make_article(sessionmaker, "Old title")
    headers = await editor(sessionmaker)
    assert await titles(running) == ["Old title"]
    assert await titles(running) == ["Old title"]  # now cached

    renamed = await running.post(
        "/graphql",
        json={
            "query": UPDATE,
            "variables": {
                "id": to_global_id("Article", article.id),
                "version": article.version,
                "title": "New title",
            },
        },
        headers=headers,
    )

    assert renamed.json()["data"]["updateArticle"]["errors"] == []
    assert renamed.headers["cache-control"] == "private, no-store"
    assert await titles(running) == ["New title"]


async def test_an_unpublished_article_disappears_from_cached_answers_at_once(
    running: httpx.AsyncClient, sessionmaker: SessionMaker
) -> None:
    article = await make_article(sessionmaker, "Soon withdrawn")
    await make_article(sessionmaker, "Stays")
    headers = await editor(sessionmaker)
    assert sorted(await titles(running)) == ["Soon withdrawn", "Stays"]

    hidden = await running.post(
        "/graphql",
        json={"query": UNPUBLISH, "variables": {"id": to_global_id("Article", article.id)}},
        headers=headers,
    )

    assert hidden.json()["data"]["unpublishArticle"]["errors"] == []
    assert await titles(running) == ["Stays"]


async def test_a_scheduled_article_appears_when_its_time_comes(
    engine: AsyncEngine, sessionmaker: SessionMaker
) -> None:
    await make_article(sessionmaker, "Already out")
    clock = ManualClock()
    await make_article(sessionmaker, "Scheduled", published_at=clock() + timedelta(seconds=1.5))
    async with running_at(engine, clock) as client:
        before = await client.get("/graphql", params={"query": NEWS})
        assert [n["title"] for n in before.json()["data"]["articles"]["nodes"]] == ["Already out"]
        # A CDN may keep it (stale or not) only until the scheduled article goes out.
        control = dict(
            part.strip().partition("=")[::2] for part in before.headers["cache-control"].split(",")
        )
        assert int(control["max-age"]) + int(control.get("stale-while-revalidate", 0)) <= 2

        clock.advance(2.1)

        assert await titles(client) == ["Scheduled", "Already out"]


async def test_answers_with_errors_are_not_cached_or_public(
    running: httpx.AsyncClient, count_queries: QueryCounter
) -> None:
    broken = {"query": "{ articles(first: -1) { nodes { title } } }"}

    first = await running.get("/graphql", params=broken)
    count_queries.reset()
    second = await running.get("/graphql", params=broken)

    assert first.json()["errors"]
    assert first.headers["cache-control"] == "no-store"
    assert "etag" not in first.headers
    assert second.json() == first.json()


async def test_anonymous_posts_are_cached_here_but_not_by_http_caches(
    running: httpx.AsyncClient, sessionmaker: SessionMaker, count_queries: QueryCounter
) -> None:
    await make_article(sessionmaker, "Posted")
    first = await running.post("/graphql", json={"query": NEWS})
    count_queries.reset()

    second = await running.post("/graphql", json={"query": NEWS})

    assert second.content == first.content
    assert second.headers["cache-control"] == "no-store"
    assert len(count_queries.statements) <= 1


async def test_with_the_cache_off_http_caching_still_works(
    engine: AsyncEngine, sessionmaker: SessionMaker, count_queries: QueryCounter
) -> None:
    await make_article(sessionmaker, "Uncached")
    settings = Settings(migrate_on_start=False, seed_on_start=False, response_cache=False)
    app = create_app(settings, engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        first = await client.get("/graphql", params={"query": NEWS})
        count_queries.reset()
        second = await client.get(
            "/graphql", params={"query": NEWS}, headers={"If-None-Match": first.headers["etag"]}
        )

    assert second.status_code == 304
    assert count_queries.count > 0  # the query ran again: no response cache


async def test_an_answer_about_opening_hours_expires_when_the_office_opens_or_closes(
    engine: AsyncEngine, sessionmaker: SessionMaker
) -> None:
    minsk = ZoneInfo("Europe/Minsk")
    local = utcnow().astimezone(minsk)
    closes = (local + timedelta(minutes=2)).replace(second=0, microsecond=0)
    if closes.date() != local.date():
        pytest.skip("too close to midnight in Minsk for a same-day closing time")
    async with sessionmaker() as session:
        await create_office(
            session,
            data=OfficeCreate(slug="desk", name="Desk"),
            weekly={day: DayHours(time(0, 0), closes.time()) for day in range(1, 8)},
        )
    settings = Settings(migrate_on_start=False, seed_on_start=False, cache_max_age_seconds=3600)
    app = create_app(settings, engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        answer = await client.get(
            "/graphql", params={"query": "{ offices(first: 5) { nodes { isOpen } } }"}
        )

    assert answer.json() == {"data": {"offices": {"nodes": [{"isOpen": True}]}}}
    max_age = int(answer.headers["cache-control"].split("max-age=")[1].split(",")[0])
    assert max_age <= (closes - local).total_seconds() <= 120


async def test_a_change_made_by_another_process_is_seen_at_once(
    engine: AsyncEngine, sessionmaker: SessionMaker, tmp_path: Path
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("processes share changes through PostgreSQL notifications")
    article = await make_article(sessionmaker, "Before")
    env = environment(
        database_url=engine.url.render_as_string(hide_password=False),
        migrate_on_start="false",
        seed_on_start="false",
        rate_limit_per_minute="0",
    )
    with serving(tmp_path, env, tmp_path / "serve.log") as base_url:
        with httpx.Client(base_url=base_url) as http:

            def read() -> list[str]:
                answer = http.get("/graphql", params={"query": NEWS})
                return [node["title"] for node in answer.json()["data"]["articles"]["nodes"]]

            def hits() -> float:
                families = text_string_to_metric_families(http.get("/metrics").text)
                return sum(
                    sample.value
                    for family in families
                    if family.name == "vestnik_response_cache"
                    for sample in family.samples
                    if sample.labels.get("result") == "hit"
                )

            # Until the server's notification connection is up, it does not use its cache.
            for _ in range(100):
                assert read() == ["Before"]
                if hits() > 0:
                    break
                await asyncio.sleep(0.05)
            assert hits() > 0

            async with sessionmaker() as session:  # this test process is "another process"
                await update_article(
                    session,
                    viewer=Viewer(role=Role.EDITOR, token_name="desk"),
                    id=article.id or 0,
                    expected_version=article.version,
                    data={"title": "After"},
                )

            assert read() == ["After"]
