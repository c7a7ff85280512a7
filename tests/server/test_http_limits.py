"""Hostile traffic at the HTTP layer: big and odd bodies, cross-site posts, floods, slow work.

Every refusal is JSON with ``extensions.code`` and the request id that is also in the
``X-Request-ID`` header, which every response carries.
"""

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import anyio
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import func, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from models import Role, Tag
from models.db import SessionMaker, make_engine
from models.services import catalog
from models.services.tokens import create_token
from server.app import create_app
from server.ratelimit import TokenBuckets
from server.settings import Settings
from tests.pgcluster import free_port
from tests.server.http_errors import http_error

pytestmark = pytest.mark.anyio

NO_STARTUP = Settings(migrate_on_start=False, seed_on_start=False)
OFFICES = "{ offices { totalCount } }"
OFFICES_ANSWER = {"data": {"offices": {"totalCount": 0}}}
CREATE_TAG = 'mutation { createTag(input: {name: "Harvest"}) { tag { slug } errors { code } } }'
GENERATED_ID = re.compile(r"[0-9a-f]{32}")
ALLOWED_ORIGIN = "https://kopyl.gov.by"
OTHER_ORIGIN = "https://evil.example"


def client_for(app: Any, address: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def clients(engine: AsyncEngine) -> AsyncIterator[Callable[..., httpx.AsyncClient]]:
    """Clients of an app on the migrated test database, with the settings a test needs."""
    made: list[httpx.AsyncClient] = []

    def connect(address: str = "127.0.0.1", **settings: Any) -> httpx.AsyncClient:
        app = create_app(NO_STARTUP.model_copy(update=settings), engine=engine)
        made.append(client_for(app, address))
        return made[-1]

    yield connect
    for client in made:
        await client.aclose()


@pytest.fixture
async def bare(tmp_path) -> AsyncIterator[Callable[..., httpx.AsyncClient]]:
    """Clients of an app whose database is never reached: for requests refused before SQL."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'untouched.db'}")
    made: list[httpx.AsyncClient] = []

    def connect(**settings: Any) -> httpx.AsyncClient:
        made.append(client_for(create_app(NO_STARTUP.model_copy(update=settings), engine=engine)))
        return made[-1]

    yield connect
    for client in made:
        await client.aclose()
    await engine.dispose()


async def editor_secret(sessionmaker: SessionMaker, name: str = "Desk") -> str:
    async with sessionmaker() as session:
        _, secret = await create_token(session, name=name, role=Role.EDITOR)
    return secret


async def tag_count(sessionmaker: SessionMaker) -> int:
    async with sessionmaker() as session:
        return (await session.exec(select(func.count()).select_from(Tag))).one()


def assert_refused(response: httpx.Response, status: int, message: str, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == http_error(response, message, code)


@pytest.fixture
def blocked_offices(monkeypatch) -> Iterator[tuple[asyncio.Event, asyncio.Event]]:
    """The ``offices`` resolver waits inside until released: (entered, release)."""
    entered, release = asyncio.Event(), asyncio.Event()
    original = catalog.list_by_name

    async def wait_then_list(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        await release.wait()
        return await original(*args, **kwargs)

    monkeypatch.setattr(catalog, "list_by_name", wait_then_list)
    yield entered, release
    release.set()


# -- request bodies ------------------------------------------------------------------------------


async def test_a_one_megabyte_document_is_413(bare):
    # given: a query padded to 1 MB, over the default 100 kB limit
    client = bare()
    document = OFFICES + " " * 1_000_000

    # when
    response = await client.post("/graphql", json={"query": document})

    # then
    assert_refused(response, 413, "Request body is larger than 100000 bytes", "PAYLOAD_TOO_LARGE")


async def test_a_body_under_the_limit_is_served(clients):
    # given
    client = clients(max_body_bytes=2048)
    body = {"query": OFFICES + " " * 1900}

    # when
    response = await client.post("/graphql", json=body)

    # then
    assert (response.status_code, response.json()) == (200, OFFICES_ANSWER)


async def test_a_chunked_body_without_content_length_is_cut_off_at_the_limit(bare):
    # given: a body streamed in chunks, so there is no Content-Length to check in advance
    client = bare(max_body_bytes=2048)
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"query": "' + OFFICES.encode()
        for _ in range(1000):
            sent += 1024
            yield b" " * 1024
        yield b'"}'

    # when
    response = await client.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )

    # then
    assert "content-length" not in response.request.headers
    assert_refused(response, 413, "Request body is larger than 2048 bytes", "PAYLOAD_TOO_LARGE")


async def test_a_content_length_that_lies_does_not_get_a_big_body_in(tmp_path):
    # given: a raw ASGI request that declares 20 bytes and then sends 10 kB
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'untouched.db'}")
    app = create_app(NO_STARTUP.model_copy(update={"max_body_bytes": 2048}), engine=engine)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"20")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    chunks = [b'{"query": "' + OFFICES.encode()] + [b" " * 1024] * 10
    messages = iter(
        [{"type": "http.request", "body": chunk, "more_body": True} for chunk in chunks]
    )
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return next(messages, {"type": "http.disconnect"})

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    # when
    await app(scope, receive, send)
    await engine.dispose()

    # then
    start, body = sent[0], b"".join(m.get("body", b"") for m in sent[1:])
    assert start["status"] == 413
    assert b'"PAYLOAD_TOO_LARGE"' in body
    assert len(list(messages)) == 8, "reading stopped at the limit"


# -- cross-site requests: only JSON POSTs run anything ----------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"content": CREATE_TAG, "headers": {"content-type": "text/plain"}}, id="text"),
        pytest.param({"data": {"query": CREATE_TAG}}, id="form-urlencoded"),
        pytest.param({"files": {"query": (None, CREATE_TAG)}}, id="multipart"),
        pytest.param({"content": CREATE_TAG}, id="no-content-type"),
        pytest.param(
            {"content": CREATE_TAG, "headers": {"content-type": "application/jsonp"}}, id="jsonp"
        ),
    ],
)
async def test_posts_a_browser_form_can_make_are_415_and_write_nothing(clients, sessionmaker, body):
    # given: an editor's token, so only the media type stands in the way
    secret = await editor_secret(sessionmaker)
    client = clients()
    body = dict(body)
    headers = {"authorization": f"Bearer {secret}", **body.pop("headers", {})}

    # when
    response = await client.post("/graphql", headers=headers, **body)

    # then
    assert_refused(
        response, 415, "Send GraphQL requests as application/json", "UNSUPPORTED_MEDIA_TYPE"
    )
    assert await tag_count(sessionmaker) == 0


async def test_get_never_runs_a_mutation(clients, sessionmaker):
    # given
    secret = await editor_secret(sessionmaker)
    client = clients()

    # when
    response = await client.get(
        "/graphql", params={"query": CREATE_TAG}, headers={"authorization": f"Bearer {secret}"}
    )

    # then
    assert_refused(response, 400, "mutations are not allowed when using GET", "BAD_REQUEST")
    assert await tag_count(sessionmaker) == 0


async def test_the_same_mutation_as_a_json_post_runs(clients, sessionmaker):
    # given: the control for the two tests above
    secret = await editor_secret(sessionmaker)
    client = clients()

    # when
    response = await client.post(
        "/graphql", json={"query": CREATE_TAG}, headers={"authorization": f"Bearer {secret}"}
    )

    # then
    assert response.json() == {"data": {"createTag": {"tag": {"slug": "harvest"}, "errors": []}}}
    assert await tag_count(sessionmaker) == 1


# -- JSON that is not a request -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("depth", "status"), [pytest.param(1024, 200, id="1024"), pytest.param(1025, 400, id="1025")]
)
async def test_deep_json_is_400_saying_so(bare, depth, status):
    # given: variables nested `depth` levels deep, counting the body object itself
    nested = "[" * (depth - 2) + "]" * (depth - 2)
    body = f'{{"query": "{{ __typename }}", "extensions": {{"x": {nested}}}}}'

    # when
    response = await bare().post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )

    # then
    if status == 200:
        assert response.json() == {"data": {"__typename": "Query"}}
    else:
        message = "Request body is nested too deeply (more than 1024 levels)"
        assert_refused(response, 400, message, "BAD_REQUEST")


async def test_deep_get_variables_are_400_naming_them(bare):
    # when
    response = await bare().get(
        "/graphql", params={"query": OFFICES, "variables": "[" * 2000 + "]" * 2000}
    )

    # then
    message = "The 'variables' parameter is nested too deeply (more than 1024 levels)"
    assert_refused(response, 400, message, "BAD_REQUEST")


# -- concurrency and deadline ---------------------------------------------------------------------


async def test_past_the_concurrency_limit_the_answer_is_503_at_once(clients, blocked_offices):
    # given: one request may run at a time, and one is running
    entered, release = blocked_offices
    client = clients(max_concurrent_requests=1)
    async with anyio.create_task_group() as group:
        first: list[httpx.Response] = []

        async def run_first() -> None:
            first.append(await client.post("/graphql", json={"query": OFFICES}))

        group.start_soon(run_first)
        with anyio.fail_after(5):
            await entered.wait()

        # when: a second one arrives
        began = time.monotonic()
        second = await client.post("/graphql", json={"query": OFFICES})
        waited = time.monotonic() - began
        release.set()

    # then: refused without queueing; the first finishes; the slot is free again
    message = "The server is busy; try again shortly"
    assert_refused(second, 503, message, "OVERLOADED")
    assert second.headers["retry-after"] == "1"
    assert waited < 1
    assert (first[0].status_code, first[0].json()) == (200, OFFICES_ANSWER)
    third = await client.post("/graphql", json={"query": OFFICES})
    assert (third.status_code, third.json()) == (200, OFFICES_ANSWER)


async def test_a_request_past_its_deadline_is_stopped_with_504(clients, monkeypatch):
    # given: a resolver that would take half a minute, and a 0.3 s deadline
    async def slow(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(30)

    monkeypatch.setattr(catalog, "list_by_name", slow)
    client = clients(request_timeout_seconds=0.3, max_concurrent_requests=1)

    # when
    with anyio.fail_after(5):
        response = await client.post("/graphql", json={"query": OFFICES})

    # then: a clear error, and the request no longer holds its slot
    message = "The request took longer than 0.3 s and was stopped"
    assert_refused(response, 504, message, "TIMEOUT")
    after = await client.post("/graphql", json={"query": "{ __typename }"})
    assert after.status_code == 200


# -- rate limits ----------------------------------------------------------------------------------


async def test_anonymous_requests_are_limited_per_address(clients):
    # given: two requests a minute per address
    client = clients(rate_limit_per_minute=2)
    neighbour = clients(address="192.0.2.7", rate_limit_per_minute=2)

    # when
    answers = [await client.post("/graphql", json={"query": OFFICES}) for _ in range(3)]
    other = await neighbour.post("/graphql", json={"query": OFFICES})

    # then: the third waits half a minute for the next token; another address is unaffected
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert_refused(answers[2], 429, "Too many requests; slow down", "RATE_LIMITED")
    assert answers[2].headers["retry-after"] == "30"
    assert other.status_code == 200


async def test_an_editor_token_has_its_own_budget(clients, sessionmaker):
    # given: the address has spent its anonymous budget
    secret = await editor_secret(sessionmaker)
    client = clients(rate_limit_per_minute=1, editor_rate_limit_per_minute=3)
    assert (await client.post("/graphql", json={"query": OFFICES})).status_code == 200
    assert (await client.post("/graphql", json={"query": OFFICES})).status_code == 429
    editor = {"authorization": f"Bearer {secret}"}

    # when
    answers = [
        await client.post("/graphql", json={"query": OFFICES}, headers=editor) for _ in range(5)
    ]

    # then: the token's first request, before it is known to be valid, comes out of the
    # address's budget for unverified tokens; after that the token has its own three a minute
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 429]
    assert_refused(answers[4], 429, "Too many requests; slow down", "RATE_LIMITED")
    assert answers[4].headers["retry-after"] == "20"
    anonymous = await client.post("/graphql", json={"query": OFFICES})
    assert anonymous.status_code == 429


async def test_guessing_tokens_is_rate_limited_per_address(clients):
    # given
    client = clients(rate_limit_per_minute=2, editor_rate_limit_per_minute=10)
    guess = {"authorization": "Bearer vst_" + "A" * 43}

    # when
    answers = [
        await client.post("/graphql", json={"query": OFFICES}, headers=guess) for _ in range(3)
    ]
    anonymous = await client.post("/graphql", json={"query": OFFICES})

    # then: wrong tokens run out of budget like anything else; the anonymous budget is apart
    assert [a.status_code for a in answers] == [401, 401, 429]
    assert anonymous.status_code == 200


@pytest.mark.parametrize(("trusted", "statuses"), [(False, [200, 429]), (True, [200, 200])])
async def test_x_forwarded_for_counts_only_when_trusted(clients, trusted, statuses):
    # given: two clients behind one proxy address, told apart only by X-Forwarded-For
    client = clients(rate_limit_per_minute=1, trust_forwarded_for=trusted)

    # when
    answers = [
        await client.post(
            "/graphql",
            json={"query": OFFICES},
            headers={"x-forwarded-for": f"10.9.9.9, 198.51.100.{n}"},
        )
        for n in (1, 2)
    ]

    # then
    assert [a.status_code for a in answers] == statuses


def test_a_bucket_refills_at_its_rate():
    # given: 60 a minute is one a second, with a burst of 60
    now = [0.0]
    buckets = TokenBuckets(60, clock=lambda: now[0])

    # when / then
    assert [buckets.take("a") for _ in range(60)] == [0.0] * 60
    assert buckets.take("a") == pytest.approx(1.0)
    now[0] += 1.0
    assert buckets.take("a") == 0.0
    assert buckets.take("b") == 0.0
    assert TokenBuckets(0).take("a") == 0.0, "0 a minute: no limit"


def test_buckets_forget_the_least_recently_seen_keys_first():
    # given
    buckets = TokenBuckets(1, clock=lambda: 0.0, max_keys=2)
    buckets.take("a")
    buckets.take("b")

    # when: a third key pushes out "a"
    buckets.take("c")

    # then
    assert buckets.take("a") == 0.0
    assert buckets.take("c") > 0


# -- CORS -----------------------------------------------------------------------------------------

PREFLIGHT = {
    "access-control-request-method": "POST",
    "access-control-request-headers": "authorization, content-type",
}


async def test_cors_allows_only_listed_origins(bare):
    # given
    client = bare(cors_allow_origins=[ALLOWED_ORIGIN])

    # when
    allowed = await client.options("/graphql", headers={"origin": ALLOWED_ORIGIN, **PREFLIGHT})
    denied = await client.options("/graphql", headers={"origin": OTHER_ORIGIN, **PREFLIGHT})
    allowed_get = await client.get(
        "/graphql", params={"query": "{ __typename }"}, headers={"origin": ALLOWED_ORIGIN}
    )
    denied_get = await client.get(
        "/graphql", params={"query": "{ __typename }"}, headers={"origin": OTHER_ORIGIN}
    )

    # then
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert denied.status_code == 400
    assert "access-control-allow-origin" not in denied.headers
    assert allowed_get.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "x-request-id" in allowed_get.headers["access-control-expose-headers"].lower()
    assert "access-control-allow-origin" not in denied_get.headers


async def test_no_cors_headers_without_an_allow_list(bare):
    # given: the default, no origins
    client = bare()

    # when
    preflight = await client.options("/graphql", headers={"origin": ALLOWED_ORIGIN, **PREFLIGHT})
    get = await client.get(
        "/graphql", params={"query": "{ __typename }"}, headers={"origin": ALLOWED_ORIGIN}
    )

    # then
    assert preflight.status_code == 405
    for response in (preflight, get):
        assert not any(name.startswith("access-control-") for name in response.headers)


# -- request ids ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("GET", "/healthz", 200),
        ("GET", "/readyz", 200),
        ("POST", "/graphql", 200),
        ("GET", "/graphql?query=%7B", 200),
        ("GET", "/graphql", 200),
        ("PUT", "/graphql", 405),
        ("GET", "/nowhere", 404),
    ],
)
async def test_every_response_carries_a_request_id(clients, method, url, status):
    # when
    response = await clients().request(
        method, url, json={"query": OFFICES} if method == "POST" else None
    )

    # then
    assert response.status_code == status
    assert GENERATED_ID.fullmatch(response.headers["x-request-id"])


@pytest.mark.parametrize(
    ("incoming", "kept"),
    [
        ("req-42-abc", True),
        ("A" * 64, True),
        ("A" * 65, False),
        ("id with spaces", False),
        ("id;rm -rf", False),
        ("", False),
    ],
)
async def test_a_sane_incoming_request_id_is_kept(bare, incoming, kept):
    # when
    response = await bare().get("/healthz", headers={"x-request-id": incoming})

    # then
    if kept:
        assert response.headers["x-request-id"] == incoming
    else:
        assert GENERATED_ID.fullmatch(response.headers["x-request-id"])


async def test_a_masked_error_quotes_the_request_id_of_the_response_and_the_log(bare, caplog):
    # given: an unmigrated database, so the resolver fails inside the driver
    client = bare()

    # when
    with caplog.at_level(logging.ERROR, logger="vestnik.errors"):
        response = await client.post(
            "/graphql", json={"query": OFFICES}, headers={"x-request-id": "proxy-7"}
        )

    # then
    [error] = response.json()["errors"]
    assert error["message"] == "Internal server error"
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "proxy-7"}
    assert response.headers["x-request-id"] == "proxy-7"
    [record] = [r for r in caplog.records if r.name == "vestnik.errors"]
    assert "proxy-7" in record.getMessage()


async def test_a_bug_outside_graphql_is_a_masked_500_with_the_request_id(tmp_path, caplog):
    # given: a route that fails
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'untouched.db'}")
    app = create_app(NO_STARTUP, engine=engine)

    async def broken(request: Request) -> Response:
        raise RuntimeError("/srv/vestnik secret detail")

    app.router.routes.append(Route("/broken", broken))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)

    # when
    with caplog.at_level(logging.ERROR, logger="vestnik.http"):
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/broken")
    await engine.dispose()

    # then
    assert_refused(response, 500, "Internal server error", "INTERNAL_SERVER_ERROR")
    assert "secret detail" not in response.text
    [record] = [r for r in caplog.records if r.name == "vestnik.http"]
    assert response.headers["x-request-id"] in record.getMessage()


async def test_a_bug_in_the_view_is_a_masked_500_with_the_request_id(bare, monkeypatch, caplog):
    # given: authentication itself breaks
    async def broken(*args: Any) -> Any:
        raise RuntimeError("secret detail")

    monkeypatch.setattr("server.graphql.authenticate", broken)

    # when
    with caplog.at_level(logging.ERROR, logger="vestnik.http"):
        response = await bare().post("/graphql", json={"query": OFFICES})

    # then
    assert_refused(response, 500, "Internal server error", "INTERNAL_SERVER_ERROR")
    [record] = [r for r in caplog.records if r.name == "vestnik.http"]
    assert response.headers["x-request-id"] in record.getMessage()


# -- an unreachable database ----------------------------------------------------------------------


UNAVAILABLE = "The database is unavailable; try again shortly"


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("sqlite+aiosqlite:///{tmp}/no-such-dir/vestnik.db", id="sqlite-missing-dir"),
        pytest.param("postgresql+asyncpg://vestnik@127.0.0.1:{port}/vestnik", id="pg-closed"),
    ],
)
@pytest.mark.parametrize("authorization", [None, "Bearer vst_" + "A" * 43], ids=["anon", "token"])
async def test_an_unreachable_database_is_a_quick_503(tmp_path, url, authorization):
    # given
    engine = make_engine(url.format(tmp=tmp_path, port=free_port()))
    headers = {"authorization": authorization} if authorization else {}

    # when
    async with client_for(create_app(NO_STARTUP, engine=engine)) as client:
        with anyio.fail_after(5):
            response = await client.post("/graphql", json={"query": OFFICES}, headers=headers)
    await engine.dispose()

    # then
    assert response.status_code == 503
    [error] = response.json()["errors"]
    assert error["message"] == UNAVAILABLE
    assert error["extensions"]["code"] == "DATABASE_UNAVAILABLE"
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]
    assert response.headers["retry-after"] == "5"
