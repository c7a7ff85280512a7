"""``/metrics``: real requests through the app, then the Prometheus text parsed back.

The GraphQL view states the operation and its error codes on the ASGI scope; until it
does, GraphQL operations are tested through ``MetricsMiddleware`` with those facts set.
"""

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from server.app import create_app
from server.metrics import (
    ERROR_CODES,
    MAX_LABEL_VALUES,
    OPERATION,
    BoundedLabels,
    Metrics,
    MetricsMiddleware,
    note_error_codes,
    note_operation,
    operation_name,
)
from server.settings import Settings

pytestmark = pytest.mark.anyio
# What is counted does not depend on the database: SQLite only.
sqlite_only = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)

OFFICES_QUERY = "query Offices { offices { totalCount } }"
TOO_MANY_QUERY = "{ offices(first: 1000) { totalCount } }"
NO_SUCH_FIELD_QUERY = "query Typo { officez { totalCount } }"
SECRET_QUERY = '{ article(slug: "secret-draft-slug-0xdeadbeef") { title } }'
TOKEN = "vst_not-a-real-token-but-secret-looking"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Every sample of the exposition as {(name, labels): value}."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def requests_total(samples: Samples, operation: str, status: int) -> float:
    labels = frozenset({"operation": operation, "status": str(status)}.items())
    return samples.get(("vestnik_http_requests_total", labels), 0.0)


def only(name: str, samples: Samples, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
async def make_client(
    engine: AsyncEngine,
) -> AsyncIterator[Callable[..., tuple[Starlette, httpx.AsyncClient]]]:
    """Apps built with the given settings on the test's database, and clients for them."""
    clients: list[httpx.AsyncClient] = []

    def make(**settings: object) -> tuple[Starlette, httpx.AsyncClient]:
        app = create_app(
            Settings(migrate_on_start=False, seed_on_start=False, **settings),  # type: ignore[arg-type]
            engine=engine,
        )
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
        clients.append(client)
        return app, client

    yield make
    for client in clients:
        await client.aclose()


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return parse(response.text)


@sqlite_only
async def test_requests_are_counted_by_route_and_status(make_client):
    # given
    _, client = make_client()

    # when
    for _ in range(3):
        assert (await client.get("/healthz")).status_code == 200
    assert (await client.get("/readyz")).status_code == 200
    assert (await client.get("/no/such/page-12345")).status_code == 404
    graphiql = await client.get("/graphql", headers={"accept": "text/html"})
    form_post = await client.post("/graphql", content=b"query=x", headers={"content-type": "a/b"})
    samples = await scrape(client)

    # then
    assert (graphiql.status_code, form_post.status_code) == (200, 415)
    counts = {
        (dict(labels)["operation"], dict(labels)["status"]): value
        for (name, labels), value in samples.items()
        if name == "vestnik_http_requests_total"
    }
    assert counts == {
        ("healthz", "200"): 3,
        ("readyz", "200"): 1,
        ("other", "404"): 1,  # a path nobody serves never becomes a label of its own
        ("-", "200"): 1,  # GraphiQL's page: no operation was read
        ("-", "415"): 1,
    }
    histogram = "vestnik_http_request_duration_seconds_count"
    assert only(histogram, samples, operation="healthz") == 3
    assert only(histogram.replace("_count", "_bucket"), samples, operation="healthz", le="+Inf")
    assert only(histogram.replace("_count", "_sum"), samples, operation="healthz") > 0


@sqlite_only
async def test_metrics_scrapes_are_neither_counted_nor_rate_limited(make_client):
    # given: one anonymous request a minute
    _, client = make_client(rate_limit_per_minute=1)

    # when
    first = await client.post("/graphql", json={"query": OFFICES_QUERY})
    second = await client.post("/graphql", json={"query": OFFICES_QUERY})
    scrapes = [await client.get("/metrics") for _ in range(5)]
    samples = parse(scrapes[-1].text)

    # then: the GraphQL budget is spent, the scrapes all answer and none counts
    assert (first.status_code, second.status_code) == (200, 429)
    assert [r.status_code for r in scrapes] == [200] * 5
    assert not any(
        dict(labels).get("operation") == "metrics" for (_, labels), _value in samples.items()
    )
    assert sum(v for (n, _), v in samples.items() if n == "vestnik_http_requests_total") == 2


@sqlite_only
async def test_metrics_show_nothing_a_request_carried(make_client):
    # given
    _, client = make_client()
    await client.post(
        "/graphql",
        json={"query": SECRET_QUERY, "variables": {"hidden": "variable-value-42"}},
        headers={"authorization": f"Bearer {TOKEN}", "x-request-id": "req-abc-123"},
    )

    # when
    text = (await client.get("/metrics")).text

    # then: counts and timings only
    for fragment in (TOKEN, "secret-draft", "variable-value", "req-abc-123", "127.0.0.1", "/work/"):
        assert fragment not in text


@sqlite_only
async def test_metrics_off_means_no_route_and_no_counting(make_client):
    # given
    app, client = make_client(metrics=False)

    # when
    response = await client.get("/metrics")
    health = await client.get("/healthz")

    # then
    assert (response.status_code, health.status_code) == (404, 200)
    assert app.state.metrics is None


@sqlite_only
async def test_cache_results_are_counted(make_client):
    # given: the response cache reports through app.state.metrics
    app, client = make_client()
    metrics: Metrics = app.state.metrics

    # when
    for result in ("miss", "store", "hit", "hit"):
        metrics.count_cache(result)  # type: ignore[arg-type]
    samples = await scrape(client)

    # then
    counts = {
        result: only("vestnik_response_cache_total", samples, result=result)
        for result in ("hit", "miss", "store")
    }
    assert counts == {"hit": 2, "miss": 1, "store": 1}
    with pytest.raises(ValueError, match="unknown cache result"):
        metrics.count_cache("evicted")  # type: ignore[arg-type]


# -- GraphQL operations, through the facts the view leaves on the scope -----------------------


@sqlite_only
async def test_graphql_requests_are_counted_through_the_view(make_client):
    # given
    _, client = make_client()

    # when
    named = await client.post("/graphql", json={"query": OFFICES_QUERY, "operationName": "Offices"})
    too_many = await client.post("/graphql", json={"query": TOO_MANY_QUERY})
    typo = await client.post(
        "/graphql", json={"query": NO_SUCH_FIELD_QUERY, "operationName": "Typo"}
    )
    samples = await scrape(client)

    # then
    assert [r.status_code for r in (named, too_many, typo)] == [200, 200, 200]
    assert requests_total(samples, "Offices", 200) == 1
    assert requests_total(samples, "anonymous", 200) == 1
    assert requests_total(samples, "Typo", 200) == 1
    errors = {
        dict(labels)["code"]: value
        for (name, labels), value in samples.items()
        if name == "vestnik_graphql_errors_total"
    }
    assert errors == {"BAD_USER_INPUT": 1, "NO_CODE": 1}


@pytest.mark.parametrize(
    ("query", "given", "name"),
    [
        (OFFICES_QUERY, None, "Offices"),
        (OFFICES_QUERY, "Chosen", "Chosen"),
        ("{ offices { totalCount } }", None, None),
        ("query { offices { totalCount } }", None, None),
        ("# a comment\nmutation Publish($a: In = {b: 1}) { x }", None, "Publish"),
        ("fragment F on Office @d(a: {b: 1}) { a { b } } query Q { ...F }", None, "Q"),
        ("fragment F on Office { a }", None, None),
        ('query "unterminated', None, None),
        (None, None, None),
    ],
)
def test_operation_name_is_operation_name_or_the_documents_first(query, given, name):
    assert operation_name(query, given) == name


def graphql_stub(operation: str | None, codes: list[str], status: int = 200) -> ASGIApp:
    """An app whose /graphql answers like the view and states the facts it would."""

    async def view(scope: Scope, receive: Receive, send: Send) -> None:
        note_operation(scope, operation)
        note_error_codes(scope, codes)
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    return view


async def run(app: MetricsMiddleware) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        await c.post("/graphql", json={})


def middleware(inner: ASGIApp, metrics: Metrics) -> MetricsMiddleware:
    return MetricsMiddleware(inner, metrics, routes=[])


async def test_graphql_requests_are_counted_by_operation_name_and_error_code():
    # given
    metrics = Metrics(multiprocess=False)

    # when
    await run(middleware(graphql_stub("Offices", []), metrics))
    await run(middleware(graphql_stub("Offices", []), metrics))
    await run(middleware(graphql_stub(None, ["BAD_USER_INPUT", "BAD_USER_INPUT", ""]), metrics))
    await run(middleware(graphql_stub("Publish", ["FORBIDDEN"]), metrics))
    await run(middleware(graphql_stub("Slow", ["DATABASE_UNAVAILABLE"], 503), metrics))
    samples = parse(metrics.render().decode())

    # then
    assert requests_total(samples, "Offices", 200) == 2
    assert requests_total(samples, "anonymous", 200) == 1
    assert requests_total(samples, "Publish", 200) == 1
    assert requests_total(samples, "Slow", 503) == 1
    errors = {
        dict(labels)["code"]: value
        for (name, labels), value in samples.items()
        if name == "vestnik_graphql_errors_total"
    }
    assert errors == {"BAD_USER_INPUT": 2, "NO_CODE": 1, "FORBIDDEN": 1, "DATABASE_UNAVAILABLE": 1}


async def test_operation_names_cannot_grow_the_label_set_without_bound():
    # given
    metrics = Metrics(multiprocess=False)
    names = [f"Op{i}" for i in range(MAX_LABEL_VALUES + 5)]

    # when: sane names past the limit, one too long, one GraphQL would not even parse
    for name in [*names, "A" * 65, "Drop;Table"]:
        await run(middleware(graphql_stub(name, []), metrics))
    samples = parse(metrics.render().decode())

    # then
    operations = {
        dict(labels)["operation"]
        for (name, labels), _ in samples.items()
        if name == "vestnik_http_requests_total"
    }
    assert operations == {*names[:MAX_LABEL_VALUES], "other"}
    assert requests_total(samples, "other", 200) == 7


def test_bounded_labels_keep_known_values_after_the_limit():
    labels = BoundedLabels(limit=2)

    assert [labels(v) for v in ("a", "b", "c", "a", "b", "", "ü")] == [
        "a",
        "b",
        "other",
        "a",
        "b",
        "other",
        "other",
    ]


async def test_an_exception_is_counted_as_a_500():
    # given: a view that fails before answering
    metrics = Metrics(multiprocess=False)

    async def failing(scope: Scope, receive: Receive, send: Send) -> None:
        scope["state"][OPERATION] = "Broken"
        scope["state"][ERROR_CODES] = ["INTERNAL_SERVER_ERROR"]
        raise RuntimeError("boom")

    # when
    with pytest.raises(RuntimeError, match="boom"):
        await run(middleware(failing, metrics))
    samples = parse(metrics.render().decode())

    # then
    assert requests_total(samples, "Broken", 500) == 1
    assert only("vestnik_graphql_errors_total", samples, code="INTERNAL_SERVER_ERROR") == 1


@sqlite_only
async def test_answers_from_the_response_cache_are_counted_under_their_operation(make_client):
    # given
    _, client = make_client()

    # when: the same named query three times; the last two come from the response cache
    answers = [await client.get("/graphql", params={"query": OFFICES_QUERY}) for _ in range(3)]
    samples = await scrape(client)

    # then
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert requests_total(samples, "Offices", 200) == 3
    assert only("vestnik_response_cache_total", samples, result="hit") == 2
