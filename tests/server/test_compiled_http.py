"""The planner over HTTP: anonymous queries it can plan, the executor's answer and headers.

A plannable document is answered by its plan through asyncpg from its first request on;
SQLAlchemy never sees those reads, so ``count_queries`` tells the planner from graphql-core.
"""

import contextlib
import hashlib
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from models import ArticleStatus
from models.db import SessionMaker, is_sqlite
from models.services.tokens import create_token
from models.viewer import Role
from server.app import create_app
from server.settings import Settings
from tests.conftest import QueryCounter
from tests.factories import make_article, make_author

pytestmark = pytest.mark.anyio

NEWS = "query News { articles(first: 5) { nodes { title slug authors { name } } } }"
ONE = "query One($slug: String!) { article(slug: $slug) { title bodyHtml tags { name } } }"
OFFICES = "{ offices(first: 2) { nodes { name } } }"
# Not planned yet (a tag's articles): executed field by field.
# Not planned (corrections are read field by field): the regular path answers.
CORRECTIONS = "{ tags { nodes { name } } articles { nodes { corrections { note } } } }"
GRAPHQL_RESPONSE = "application/graphql-response+json"


@pytest.fixture
async def uncached(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """The app without its response cache, so every request runs a query."""
    async with _client(engine, response_cache=False) as client:
        yield client


def _client(engine: AsyncEngine, **settings: object) -> "_Serving":
    return _Serving(engine, Settings(migrate_on_start=False, seed_on_start=False, **settings))


class _Serving:
    """The app with its lifespan running (the compiled path's readers live in it)."""

    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self.app = create_app(settings, engine=engine)
        self.stack = contextlib.AsyncExitStack()

    async def __aenter__(self) -> httpx.AsyncClient:
        await self.stack.enter_async_context(self.app.router.lifespan_context(self.app))
        transport = httpx.ASGITransport(app=self.app)
        client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        return await self.stack.enter_async_context(client)

    async def __aexit__(self, *exc: object) -> None:
        await self.stack.aclose()


def article_reads(counter: QueryCounter) -> int:
    """Statements reading articles (the lifespan's background tasks send others)."""
    return sum("FROM article" in statement for statement in counter.statements)


async def _news(sessionmaker: SessionMaker) -> None:
    author = await make_author(sessionmaker, "Ганна Бялова")
    for n in range(3):
        await make_article(sessionmaker, f"Навіна {n}", authors=[author])


async def test_every_request_takes_the_plan_with_the_executors_answer(
    uncached: httpx.AsyncClient,
    sessionmaker: SessionMaker,
    engine: AsyncEngine,
    count_queries: QueryCounter,
) -> None:
    await _news(sessionmaker)
    executed = await _executed(engine, {"query": NEWS})
    count_queries.reset()
    first = await uncached.get("/graphql", params={"query": NEWS})
    statements_first = article_reads(count_queries)
    second = await uncached.get("/graphql", params={"query": NEWS})

    assert executed.status_code == first.status_code == second.status_code == 200
    assert orjson.loads(first.content)["data"]["articles"]["nodes"][0]["title"] == "Навіна 2"
    assert first.content == second.content == executed.content
    for header in ("content-type", "etag", "cache-control", "vary"):
        assert first.headers[header] == executed.headers[header]
    # PostgreSQL: the plan answered the first request already, through asyncpg. SQLite has
    # no raw reader: graphql-core executed it.
    assert (statements_first > 0) == is_sqlite(engine)


async def _executed(engine: AsyncEngine, params: dict[str, str]) -> httpx.Response:
    """The answer of an app without the planner (VESTNIK_COMPILED_QUERIES=false)."""
    async with _client(engine, response_cache=False, compiled_queries=False) as client:
        return await client.get("/graphql", params=params)


async def test_variables_vary_and_each_answer_is_right(
    uncached: httpx.AsyncClient,
    sessionmaker: SessionMaker,
    engine: AsyncEngine,
    count_queries: QueryCounter,
) -> None:
    first = await make_article(sessionmaker, "Першая")
    second = await make_article(sessionmaker, "Другая")
    answers = []
    for article in (first, second, first):
        params = {"query": ONE, "variables": orjson.dumps({"slug": article.slug}).decode()}
        response = await uncached.get("/graphql", params=params)
        answers.append(response.json()["data"]["article"]["title"])
    missing = await uncached.get(
        "/graphql", params={"query": ONE, "variables": '{"slug": "no-such-article"}'}
    )
    assert answers == ["Першая", "Другая", "Першая"]
    assert missing.json() == {"data": {"article": None}}
    if not is_sqlite(engine):
        count_queries.reset()
        await uncached.get(
            "/graphql",
            params={"query": ONE, "variables": orjson.dumps({"slug": first.slug}).decode()},
        )
        assert article_reads(count_queries) == 0


async def test_post_and_graphql_over_http_media_type(
    uncached: httpx.AsyncClient, sessionmaker: SessionMaker, count_queries: QueryCounter
) -> None:
    await _news(sessionmaker)
    body = {"query": NEWS, "operationName": "News"}
    headers = {"Accept": GRAPHQL_RESPONSE}
    first = await uncached.post("/graphql", json=body, headers=headers)
    second = await uncached.post("/graphql", json=body, headers=headers)
    assert first.headers["content-type"] == second.headers["content-type"] == GRAPHQL_RESPONSE
    assert second.content == first.content
    assert second.headers["cache-control"] == "no-store"  # POST answers are not reusable


async def test_errors_are_the_executors_and_each_request_gets_them(
    uncached: httpx.AsyncClient, sessionmaker: SessionMaker
) -> None:
    await _news(sessionmaker)
    bad_cursor = 'query { articles(first: 2, after: "nonsense") { nodes { title } } }'
    answers = [await uncached.get("/graphql", params={"query": bad_cursor}) for _ in range(2)]
    assert answers[0].json() == answers[1].json()
    assert answers[1].json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    too_many = "query { articles(first: 500) { nodes { title } } }"
    refused = [await uncached.get("/graphql", params={"query": too_many}) for _ in range(2)]
    assert refused[0].json() == refused[1].json()
    assert "errors" in refused[1].json()


async def test_a_known_document_with_a_page_too_large_is_refused_as_before(
    uncached: httpx.AsyncClient, sessionmaker: SessionMaker
) -> None:
    await _news(sessionmaker)
    query = "query Page($n: Int) { articles(first: $n) { nodes { title } } }"
    fine = await uncached.get("/graphql", params={"query": query, "variables": '{"n": 2}'})
    again = await uncached.get("/graphql", params={"query": query, "variables": '{"n": 2}'})
    refused = await uncached.get("/graphql", params={"query": query, "variables": '{"n": 500}'})
    assert fine.content == again.content
    assert len(again.json()["data"]["articles"]["nodes"]) == 2
    assert refused.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_editors_take_it_too_and_see_drafts(
    uncached: httpx.AsyncClient,
    sessionmaker: SessionMaker,
    engine: AsyncEngine,
    count_queries: QueryCounter,
) -> None:
    await _news(sessionmaker)
    async with sessionmaker() as session:
        _, secret = await create_token(session, name="Desk", role=Role.EDITOR)
    headers = {"Authorization": f"Bearer {secret}"}
    query = "query { articles(first: 10, filter: {status: DRAFT}) { nodes { title } } }"
    await make_article(sessionmaker, "Чарнавік", status=ArticleStatus.DRAFT)
    public = [await uncached.get("/graphql", params={"query": query}) for _ in range(2)]
    count_queries.reset()
    editor = await uncached.get("/graphql", params={"query": query}, headers=headers)
    assert public[1].json() == {"data": {"articles": {"nodes": []}}}
    assert editor.json() == {"data": {"articles": {"nodes": [{"title": "Чарнавік"}]}}}
    # PostgreSQL: the plan answered the editor too (through asyncpg, on the primary).
    assert (article_reads(count_queries) > 0) == is_sqlite(engine)
    assert editor.headers["cache-control"] == "private, no-store"


async def test_without_the_lifespan_it_is_never_taken(
    engine: AsyncEngine, sessionmaker: SessionMaker, count_queries: QueryCounter
) -> None:
    await _news(sessionmaker)
    settings = Settings(migrate_on_start=False, seed_on_start=False, response_cache=False)
    transport = httpx.ASGITransport(app=create_app(settings, engine=engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        await client.get("/graphql", params={"query": NEWS})
        count_queries.reset()
        await client.get("/graphql", params={"query": NEWS})
    assert article_reads(count_queries) > 0  # no raw reader: nothing to close, nothing left open


async def test_unplannable_documents_keep_the_regular_path(
    uncached: httpx.AsyncClient, count_queries: QueryCounter
) -> None:
    for _ in range(2):
        count_queries.reset()
        response = await uncached.get("/graphql", params={"query": CORRECTIONS})
        assert response.status_code == 200
        assert any("FROM tag" in statement for statement in count_queries.statements)


async def test_it_can_be_turned_off(
    engine: AsyncEngine, sessionmaker: SessionMaker, count_queries: QueryCounter
) -> None:
    await _news(sessionmaker)
    async with _client(engine, response_cache=False, compiled_queries=False) as client:
        await client.get("/graphql", params={"query": NEWS})
        count_queries.reset()
        await client.get("/graphql", params={"query": NEWS})
    assert article_reads(count_queries) > 0


async def test_a_change_shows_in_the_next_compiled_answer(
    uncached: httpx.AsyncClient,
    sessionmaker: SessionMaker,
) -> None:
    await _news(sessionmaker)
    before = [await uncached.get("/graphql", params={"query": NEWS}) for _ in range(2)]
    await make_article(sessionmaker, "Свежая навіна")
    after = await uncached.get("/graphql", params={"query": NEWS})
    assert before[0].content == before[1].content
    titles = [node["title"] for node in after.json()["data"]["articles"]["nodes"]]
    assert titles[0] == "Свежая навіна"


JSON = {"Accept": "application/json"}  # without a query, */* or text/html gets GraphiQL


def _persisted(query: str, *, upper: bool = False) -> str:
    digest = hashlib.sha256(query.encode()).hexdigest()
    digest = digest.upper() if upper else digest
    return orjson.dumps({"persistedQuery": {"version": 1, "sha256Hash": digest}}).decode()


async def test_a_persisted_query_hash_takes_it_too(
    uncached: httpx.AsyncClient,
    sessionmaker: SessionMaker,
    engine: AsyncEngine,
    count_queries: QueryCounter,
) -> None:
    await _news(sessionmaker)
    registered = await uncached.get(
        "/graphql", params={"query": NEWS, "extensions": _persisted(NEWS)}
    )
    by_hash = [
        await uncached.get("/graphql", params={"extensions": _persisted(NEWS)}, headers=JSON)
        for _ in range(2)
    ]
    count_queries.reset()
    compiled = await uncached.get("/graphql", params={"extensions": _persisted(NEWS)}, headers=JSON)
    upper = await uncached.get(
        "/graphql", params={"extensions": _persisted(NEWS, upper=True)}, headers=JSON
    )
    page = await uncached.get("/graphql", params={"extensions": _persisted(NEWS)})  # Accept: */*

    assert registered.status_code == 200
    assert {r.content for r in (*by_hash, compiled, upper)} == {registered.content}
    assert compiled.headers["etag"] == registered.headers["etag"]
    assert page.headers["content-type"].startswith("text/html")  # GraphiQL, as without a plan
    # PostgreSQL: both answered by the plan. SQLite: two pages with their bylines.
    assert article_reads(count_queries) == (2 * 2 if is_sqlite(engine) else 0)


async def test_an_unknown_hash_is_still_not_found(
    uncached: httpx.AsyncClient, sessionmaker: SessionMaker
) -> None:
    await _news(sessionmaker)
    other = NEWS.replace("first: 5", "first: 4")
    await uncached.get("/graphql", params={"query": NEWS, "extensions": _persisted(NEWS)})
    for _ in range(2):
        await uncached.get("/graphql", params={"extensions": _persisted(NEWS)}, headers=JSON)
    unknown = await uncached.get("/graphql", params={"extensions": _persisted(other)}, headers=JSON)
    assert unknown.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_metrics_count_planned_and_executed_reads(
    engine: AsyncEngine, sessionmaker: SessionMaker
) -> None:
    await _news(sessionmaker)
    serving = _client(engine, response_cache=False)
    async with serving as client:
        await client.get("/graphql", params={"query": NEWS})
        await client.get("/graphql", params={"query": NEWS})
        await client.get("/graphql", params={"query": OFFICES})
        await client.get("/graphql", params={"query": CORRECTIONS})
        registry = serving.app.state.metrics.registry

        def reads(path: str) -> float | None:
            return registry.get_sample_value("vestnik_graphql_reads_total", {"path": path})

        # The news list and offices are planned on both databases; articles' corrections
        # are executed.
        assert (reads("planned"), reads("executed")) == (3.0, 1.0)
