"""Response-cache hits answered in front of the middleware stack (server/hits.py).

Every test asks the app twice over: through the front (``client``, where the fast path
sits) and straight through the stack behind it (``full``), and a recorder counts what
reaches the stack. A hit from the fast path must be indistinguishable from one the stack
serves. On PostgreSQL the fast path answers hits; on SQLite the content version is read
from the database for every lookup, so every request goes on to the stack.
"""

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.datastructures import QueryParams
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from models.db import SessionMaker
from models.services.article_edits import update_article
from models.services.tokens import create_token
from models.viewer import Role, Viewer
from server.app import VestnikApp, create_app
from server.cache import get_cache_key
from server.graphql import GraphQLView
from server.hits import CachedHits
from server.middleware import current_request_id
from server.settings import Settings
from tests.factories import make_article

pytestmark = pytest.mark.anyio

NEWS = {"query": "query News { articles(first: 10) { nodes { title } } }"}
ORIGIN = "https://kopyl.gov.by"
NEW_ID = re.compile(r"[0-9a-f]{32}")


class Recorder:
    """The stack behind the fast path, counting the HTTP requests that reach it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.calls = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.calls += 1
        await self.app(scope, receive, send)


@dataclass
class Served:
    app: VestnikApp
    client: httpx.AsyncClient  # through the fast path
    full: httpx.AsyncClient  # straight to the stack behind it
    behind: Recorder

    @property
    def fast(self) -> bool:
        """Hits are answered in front (PostgreSQL), not by the stack (SQLite)."""
        cache = self.app.state.cache
        return cache is not None and not cache.poll_version

    @property
    def view(self) -> GraphQLView:
        view: GraphQLView = self.app.state.graphql
        return view


Serve = Callable[..., Awaitable[Served]]


@pytest.fixture
async def serve(engine: AsyncEngine) -> AsyncIterator[Serve]:
    """Start apps (lifespan running, so the cache hears of changes) with given settings."""
    async with contextlib.AsyncExitStack() as running:

        async def start(**overrides: object) -> Served:
            values: dict[str, object] = {
                "migrate_on_start": False,
                "seed_on_start": False,
                "rate_limit_per_minute": 0,
            }
            settings = Settings(**(values | overrides))  # type: ignore[arg-type]
            app = create_app(settings, engine=engine)
            assert isinstance(app, VestnikApp)
            await running.enter_async_context(app.router.lifespan_context(app))
            for _ in range(100):  # PostgreSQL: the cache is used once its listener is up
                if app.state.cache.trusted:
                    break
                await asyncio.sleep(0.02)
            front = app.middleware_stack = app.build_middleware_stack()
            assert isinstance(front, CachedHits)
            behind = Recorder(front.app)
            front.app = behind

            async def stack(scope: Scope, receive: Receive, send: Send) -> None:
                scope["app"] = app  # as Starlette.__call__ sets it
                await behind.app(scope, receive, send)

            def client(asgi: ASGIApp) -> httpx.AsyncClient:
                transport = httpx.ASGITransport(app=asgi)
                return httpx.AsyncClient(transport=transport, base_url="http://test")

            through_front = await running.enter_async_context(client(app))
            full = await running.enter_async_context(client(stack))
            return Served(app, through_front, full, behind)

        yield start


def headers_but_id(response: httpx.Response) -> list[tuple[str, str]]:
    """Every header in order, the request id (new for each request) left out."""
    return [(k, v) for k, v in response.headers.multi_items() if k != "x-request-id"]


async def hit(served: Served, **kwargs: object) -> httpx.Response:
    """A request that the fast path answers (PostgreSQL) or passes on (SQLite)."""
    before = served.behind.calls
    response = await served.client.get("/graphql", **kwargs)  # type: ignore[arg-type]
    assert served.behind.calls == before + (0 if served.fast else 1)
    return response


async def passed_on(served: Served, **kwargs: object) -> httpx.Response:
    """A request that the fast path must leave to the stack."""
    before = served.behind.calls
    response = await served.client.get("/graphql", **kwargs)  # type: ignore[arg-type]
    assert served.behind.calls == before + 1
    return response


async def editor(sessionmaker: SessionMaker) -> dict[str, str]:
    async with sessionmaker() as session:
        _, secret = await create_token(session, name="Desk", role=Role.EDITOR)
    return {"Authorization": f"Bearer {secret}"}


async def cached(
    serve: Serve, sessionmaker: SessionMaker, title: str | None = None, **settings: object
) -> tuple[Served, httpx.Response]:
    """Given an article and an app whose cache holds the answer to NEWS (and that answer)."""
    await make_article(sessionmaker, title)
    served = await serve(**settings)
    return served, await passed_on(served, params=NEWS)


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_a_hit_is_answered_in_front_exactly_as_the_stack_answers_it(
    serve: Serve, sessionmaker: SessionMaker
) -> None:
    served, miss = await cached(serve, sessionmaker, "Harvest news")

    answer = await hit(served, params=NEWS)
    from_stack = await served.full.get("/graphql", params=NEWS)

    assert (answer.status_code, from_stack.status_code) == (200, 200)
    assert answer.content == miss.content == from_stack.content
    assert answer.json() == {"data": {"articles": {"nodes": [{"title": "Harvest news"}]}}}
    assert headers_but_id(answer) == headers_but_id(from_stack)
    assert sorted(headers_but_id(answer)) == sorted(headers_but_id(miss))
    assert answer.headers["cache-control"] == "public, max-age=10, stale-while-revalidate=60"
    assert NEW_ID.fullmatch(answer.headers["x-request-id"])
    assert answer.headers["x-request-id"] != miss.headers["x-request-id"]


async def test_if_none_match_gets_the_same_304_in_front_as_from_the_stack(
    serve: Serve, sessionmaker: SessionMaker
) -> None:
    served, first = await cached(serve, sessionmaker, "Harvest news")
    etag = first.headers["etag"]
    # Weak comparison, one tag of several.
    conditional = {"If-None-Match": f'"something-else", W/{etag}'}

    answer = await hit(served, params=NEWS, headers=conditional)
    from_stack = await served.full.get("/graphql", params=NEWS, headers=conditional)
    changed = await hit(served, params=NEWS, headers={"If-None-Match": '"something-else"'})

    assert (answer.status_code, answer.content) == (304, b"")
    assert headers_but_id(answer) == headers_but_id(from_stack)
    assert answer.headers["etag"] == etag
    assert changed.status_code == 200
    assert changed.headers["etag"] == etag


async def test_a_hit_keeps_a_sane_request_id_and_replaces_any_other(
    serve: Serve, sessionmaker: SessionMaker
) -> None:
    served, _ = await cached(serve, sessionmaker)

    kept = await hit(served, params=NEWS, headers={"X-Request-ID": "proxy-7f3a-1"})
    replaced = await hit(served, params=NEWS, headers={"X-Request-ID": "a b"})
    too_long = await hit(served, params=NEWS, headers={"X-Request-ID": "a" * 65})

    assert kept.headers["x-request-id"] == "proxy-7f3a-1"
    assert NEW_ID.fullmatch(replaced.headers["x-request-id"])
    assert NEW_ID.fullmatch(too_long.headers["x-request-id"])


async def test_log_lines_written_while_a_hit_is_sent_carry_its_request_id(
    serve: Serve, sessionmaker: SessionMaker
) -> None:
    served, _ = await cached(serve, sessionmaker)
    query_string = str(httpx.QueryParams(NEWS)).encode()
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "root_path": "",
        "query_string": query_string,
        "headers": [(b"host", b"test"), (b"x-request-id", b"from-the-proxy")],
        "client": ("127.0.0.1", 5000),
        "server": ("test", 80),
    }
    seen: list[tuple[str, str | None]] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:  # uvicorn writes its access line in here
        seen.append((message["type"], current_request_id.get()))

    await served.app(scope, receive, send)

    assert seen == [
        ("http.response.start", "from-the-proxy"),
        ("http.response.body", "from-the-proxy"),
    ]
    assert current_request_id.get() is None


async def test_editors_never_get_a_cached_answer(serve: Serve, sessionmaker: SessionMaker) -> None:
    served, _ = await cached(serve, sessionmaker, "Published piece")
    await hit(served, params=NEWS)
    headers = await editor(sessionmaker)

    answer = await passed_on(served, params=NEWS, headers=headers)
    refused = await passed_on(served, params=NEWS, headers={"Authorization": "Bearer nope"})

    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "private, no-store"
    assert "etag" not in answer.headers
    assert refused.status_code == 401


async def test_an_edit_is_seen_by_the_next_read_after_hits(
    serve: Serve, sessionmaker: SessionMaker
) -> None:
    article = await make_article(sessionmaker, "Old title")
    served = await serve()
    await passed_on(served, params=NEWS)
    assert (await hit(served, params=NEWS)).json()["data"]["articles"]["nodes"] == [
        {"title": "Old title"}
    ]

    async with sessionmaker() as session:
        await update_article(
            session,
            viewer=Viewer(role=Role.EDITOR, token_name="desk"),
            id=article.id or 0,
            expected_version=article.version,
            data={"title": "New title"},
        )
    after = await passed_on(served, params=NEWS)  # the cache must read the new version
    again = await hit(served, params=NEWS)

    assert after.json()["data"]["articles"]["nodes"] == [{"title": "New title"}]
    assert again.content == after.content


async def test_metrics_count_a_hit_in_front_as_the_stack_counts_it(
    serve: Serve, sessionmaker: SessionMaker
) -> None:
    served, first = await cached(serve, sessionmaker)
    etag = first.headers["etag"]

    await hit(served, params=NEWS)
    await hit(served, params=NEWS, headers={"If-None-Match": etag})
    metrics = samples((await served.client.get("/metrics")).text)

    def value(name: str, **labels: str) -> float:
        return metrics.get((name, frozenset(labels.items())), 0.0)

    assert value("vestnik_http_requests_total", operation="News", status="200") == 2
    assert value("vestnik_http_requests_total", operation="News", status="304") == 1
    assert value("vestnik_http_request_duration_seconds_count", operation="News") == 3
    assert value("vestnik_response_cache_total", result="miss") == 1
    assert value("vestnik_response_cache_total", result="store") == 1
    assert value("vestnik_response_cache_total", result="hit") == 2


async def test_with_cors_on_a_cross_origin_hit_gets_cors_headers_from_the_stack(
    serve: Serve, sessionmaker: SessionMaker
) -> None:
    served, _ = await cached(serve, sessionmaker, cors_allow_origins=[ORIGIN])

    cross_origin = await passed_on(served, params=NEWS, headers={"Origin": ORIGIN})
    same_origin = await hit(served, params=NEWS)
    from_stack = await served.full.get("/graphql", params=NEWS)

    assert cross_origin.headers["access-control-allow-origin"] == ORIGIN
    assert "x-request-id" in cross_origin.headers["access-control-expose-headers"].lower()
    assert cross_origin.content == same_origin.content
    # CORSMiddleware adds Origin to Vary on every answer, with or without an Origin.
    assert same_origin.headers["vary"] == "Accept, Authorization, Origin"
    assert headers_but_id(same_origin) == headers_but_id(from_stack)


async def test_the_rate_limit_charges_a_hit_once_and_refuses_with_429(
    serve: Serve, sessionmaker: SessionMaker
) -> None:
    served, _ = await cached(serve, sessionmaker, rate_limit_per_minute=3)
    await hit(served, params=NEWS)
    await hit(served, params=NEWS)

    refused = await passed_on(served, params=NEWS)

    assert refused.status_code == 429
    assert refused.json()["errors"][0]["extensions"] == {
        "code": "RATE_LIMITED",
        "requestId": refused.headers["x-request-id"],
    }
    assert int(refused.headers["retry-after"]) >= 1


async def test_a_hit_is_refused_like_any_request_when_the_server_is_full(
    serve: Serve, sessionmaker: SessionMaker
) -> None:
    served, _ = await cached(serve, sessionmaker, max_concurrent_requests=2)
    served.view.admission.in_flight = 2  # as if two requests were running
    try:
        busy = await passed_on(served, params=NEWS)
    finally:
        served.view.admission.in_flight = 0

    assert busy.status_code == 503
    assert busy.json()["errors"][0]["extensions"]["code"] == "OVERLOADED"


async def test_hits_are_keyed_by_the_raw_query_string_and_the_media_type(
    serve: Serve, sessionmaker: SessionMaker
) -> None:
    await make_article(sessionmaker)
    served = await serve()
    variables = '{"first": 3}'
    document = "query Few($first: Int) { articles(first: $first) { nodes { title } } }"
    await passed_on(served, params={"query": document, "variables": variables})
    spec = {"Accept": "application/graphql-response+json, application/json"}

    reordered = await passed_on(served, params={"variables": variables, "query": document})
    repeated = await hit(served, params={"variables": variables, "query": document})
    spec_miss = await passed_on(
        served, params={"variables": variables, "query": document}, headers=spec
    )
    spec_hit = await hit(served, params={"variables": variables, "query": document}, headers=spec)

    assert repeated.content == reordered.content
    assert spec_hit.content == spec_miss.content == reordered.content
    assert spec_hit.headers["content-type"] == "application/graphql-response+json"
    assert repeated.headers["content-type"] == "application/json"


async def test_the_graphiql_page_is_never_a_hit(serve: Serve) -> None:
    served = await serve()
    browser = {"Accept": "text/html"}

    first = await passed_on(served, headers=browser)
    second = await passed_on(served, headers=browser)

    assert first.headers["content-type"].startswith("text/html")
    assert second.content == first.content


@pytest.mark.parametrize(
    "query_string",
    [
        b"",
        b"query",
        b"query=",
        b"variables=%7B%7D&query=x",
        b"%71uery=x",
        b"qu%65ry",
        b"extensions=%7B%7D",
        b"a=query%3Dx",
        b"a=b&&extensions",
        b"querx=1",
        b"+query=x",
        b"query+=x",
        b"a=%26query%3D",
        b"QUERY=x",
    ],
)
async def test_a_get_has_a_key_exactly_when_it_names_a_query_or_extensions(
    query_string: bytes,
) -> None:
    params = QueryParams(query_string)  # what the GraphQL view reads

    key = get_cache_key(query_string, graphql_response=False)

    assert (key is not None) == ("query" in params or "extensions" in params)
    assert key != get_cache_key(query_string, graphql_response=True) or key is None
