"""The HTTP surface: probes, request decoding, GET queries, GraphiQL and error bodies.

Whatever a client sends, the answer is JSON a person can read: never a 500, a
stack trace, SQL or a path on the server.
"""

import base64
import json
import logging
import re
from collections.abc import AsyncIterator, Callable
from urllib.parse import quote

import anyio
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from models.db import make_engine
from models.services.seed import OFFICE, load_seed
from server.app import create_app
from server.settings import Settings
from tests.factories import make_article
from tests.pgcluster import free_port
from tests.server.http_errors import http_error

pytestmark = pytest.mark.anyio

NO_STARTUP = Settings(migrate_on_start=False, seed_on_start=False)

ARTICLE_TITLES_QUERY = "{ articles { nodes { title } } }"
ARTICLE_IDS_QUERY = "{ articles { nodes { id } } }"
OFFICE_COUNT_QUERY = "{ offices { totalCount } }"
NOT_AN_OBJECT = "The GraphQL operation's `variables` must be an object or null, if provided."
NODE_QUERY = "query Node($id: ID!) { node(id: $id) { id } }"
OFFICES_AFTER_QUERY = "query Offices($after: String) { offices(after: $after) { totalCount } }"
ARTICLES_ORDER_QUERY = "{ articles(orderBy: SIDEWAYS) { nodes { id } } }"
OFFICE_BY_ID_QUERY = "query Office($id: ID!) { office(id: $id) { slug } }"
OFFICE_BY_SLUG_QUERY = "query Office($slug: String!) { office(slug: $slug) { slug } }"
OFFICE_OPEN_QUERY = """
query Open($slug: String!, $at: DateTime!) {
  office(slug: $slug) { isOpen(at: $at) nextChange(at: $at) }
}
"""
ARTICLES_AFTER_DATE_QUERY = """
query Articles($after: DateTime!) {
  articles(filter: { publishedAfter: $after }) { totalCount }
}
"""

# Fragments that must never reach a client.
LEAKS = ("Traceback", 'File "', "/work/", ".py", "SELECT", "sqlite3", "asyncpg", "sqlalchemy")


def assert_nothing_leaks(response: httpx.Response) -> None:
    for fragment in LEAKS:
        assert fragment not in response.text, f"{fragment!r} leaked into {response.text!r}"


def b64(text: str) -> str:
    """An opaque ID or cursor made by hand: URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.fixture
async def app_client() -> AsyncIterator[Callable[[str], httpx.AsyncClient]]:
    """HTTP clients for apps on engines a test makes itself (unreachable or empty databases)."""
    engines: list[AsyncEngine] = []
    clients: list[httpx.AsyncClient] = []

    def connect(url: str) -> httpx.AsyncClient:
        engine = make_engine(url)
        engines.append(engine)
        app = create_app(NO_STARTUP, engine=engine)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
        clients.append(client)
        return client

    yield connect
    for client in clients:
        await client.aclose()
    for engine in engines:
        await engine.dispose()


@pytest.fixture
def bare_client(app_client, tmp_path) -> httpx.AsyncClient:
    """For requests turned away before any SQL runs: one run, no migrated database needed."""
    return app_client(f"sqlite+aiosqlite:///{tmp_path / 'untouched.db'}")


# -- probes -------------------------------------------------------------------------------------


async def test_healthz_says_the_process_is_up(client):
    # when
    response = await client.get("/healthz")

    # then
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_says_the_database_answers(client):
    # when
    response = await client.get("/readyz")

    # then
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("sqlite+aiosqlite:///{tmp}/no-such-dir/vestnik.db", id="sqlite-missing-dir"),
        pytest.param(
            "postgresql+asyncpg://vestnik:secret@127.0.0.1:{port}/vestnik", id="postgresql-closed"
        ),
    ],
)
async def test_readyz_is_503_when_the_database_is_unreachable(app_client, tmp_path, url):
    # given: a file in a directory that does not exist, or a port nobody listens on
    client = app_client(url.format(tmp=tmp_path, port=free_port()))

    # when
    with anyio.fail_after(3):
        response = await client.get("/readyz")

    # then
    assert (response.status_code, response.json()) == (503, {"status": "unavailable"})
    assert_nothing_leaks(response)


# -- request bodies that are not a GraphQL request ------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(b'"x"', "Request body must be a JSON object", id="string"),
        pytest.param(b"42", "Request body must be a JSON object", id="number"),
        pytest.param(b"null", "Request body must be a JSON object", id="null"),
        pytest.param(
            b"[1]", "Each operation in a batch must be a JSON object", id="list-of-number"
        ),
        pytest.param(b"\xff\xfe{}", "Request body is not valid UTF-8", id="bad-utf8"),
        pytest.param(b'{"query": "\xc3"}', "Request body is not valid UTF-8", id="cut-utf8"),
        pytest.param(b'{"query": ', "Request body is not valid JSON", id="truncated"),
        pytest.param(b"{query: 1}", "Request body is not valid JSON", id="unquoted"),
        pytest.param(b"", "Request body is not valid JSON", id="empty"),
        pytest.param(
            b"[" * 5000 + b"]" * 5000,
            "Request body is nested too deeply (more than 1024 levels)",
            id="too-deep",
        ),
        pytest.param(b"{}", "No GraphQL query found in the request", id="no-query"),
    ],
)
async def test_bad_json_body_is_400_with_a_message(bare_client, body, message):
    # when
    response = await bare_client.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )

    # then
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json() == http_error(response, message, "BAD_REQUEST")
    assert_nothing_leaks(response)


async def test_body_without_json_content_type_is_415(bare_client):
    # when
    response = await bare_client.post(
        "/graphql", content=b"{ offices { totalCount } }", headers={"content-type": "text/plain"}
    )

    # then
    assert response.status_code == 415
    assert response.json() == http_error(
        response, "Send GraphQL requests as application/json", "UNSUPPORTED_MEDIA_TYPE"
    )


async def test_variables_that_are_not_an_object_are_400(bare_client):
    # when
    response = await bare_client.post(
        "/graphql", json={"query": OFFICE_COUNT_QUERY, "variables": [1]}
    )

    # then
    assert response.status_code == 400
    assert response.json() == http_error(response, NOT_AN_OBJECT, "BAD_REQUEST")


# -- GET ------------------------------------------------------------------------------------------


async def test_get_runs_a_query(client, sessionmaker):
    # given
    await make_article(sessionmaker, "Harvest in Kopyl district")

    # when
    response = await client.get("/graphql", params={"query": ARTICLE_TITLES_QUERY})

    # then
    assert response.status_code == 200
    assert response.json() == {
        "data": {"articles": {"nodes": [{"title": "Harvest in Kopyl district"}]}}
    }


async def test_get_passes_variables(client):
    # when
    response = await client.get(
        "/graphql",
        params={"query": NODE_QUERY, "variables": json.dumps({"id": "T2ZmaWNlOjE="})},
    )

    # then
    assert response.json() == {"data": {"node": None}}


async def test_get_with_null_variables_runs_the_query(client):
    # given: GraphQL over HTTP allows variables to be null, as a POST body does
    # when
    response = await client.get(
        "/graphql", params={"query": OFFICE_COUNT_QUERY, "variables": "null"}
    )

    # then
    assert (response.status_code, response.json()) == (
        200,
        {"data": {"offices": {"totalCount": 0}}},
    )


@pytest.mark.parametrize(
    "variables",
    [
        pytest.param("{bad", id="malformed"),
        pytest.param('"x"', id="string"),
        pytest.param("[1]", id="list"),
        pytest.param("%FF", id="bad-utf8"),
    ],
)
async def test_get_with_bad_variables_is_400_naming_variables(bare_client, variables):
    # given: there is no request body in a GET, so the message must point at `variables`
    url = f"/graphql?query={quote(OFFICE_COUNT_QUERY)}&variables="
    url += variables if variables.startswith("%") else quote(variables)

    # when
    response = await bare_client.get(url)

    # then
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert "variables" in error["message"], error["message"]
    assert "body" not in error["message"], error["message"]
    assert_nothing_leaks(response)


async def test_browser_get_gets_graphiql(bare_client):
    # when
    response = await bare_client.get("/graphql", headers={"accept": "text/html"})

    # then
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "GraphiQL" in response.text


async def test_unknown_route_is_404(bare_client):
    # when
    response = await bare_client.get("/wp-admin/setup.php")

    # then
    assert response.status_code == 404
    assert_nothing_leaks(response)


async def test_wrong_method_is_405(bare_client):
    # when
    response = await bare_client.delete("/graphql")

    # then
    assert response.status_code == 405
    assert_nothing_leaks(response)


# -- GraphQL errors -------------------------------------------------------------------------------


async def test_malformed_global_id_is_a_clear_error(bare_client):
    # when
    response = await bare_client.post(
        "/graphql", json={"query": NODE_QUERY, "variables": {"id": "not-an-id"}}
    )

    # then
    assert response.json() == {
        "data": {"node": None},
        "errors": [
            {
                "message": "'not-an-id' is not a valid ID",
                "locations": [{"line": 1, "column": 24}],
                "path": ["node"],
                "extensions": {"code": "BAD_USER_INPUT", "field": "id"},
            }
        ],
    }
    assert_nothing_leaks(response)


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("garbage!", id="not-base64"),
        pytest.param("eyJvIjoib24iLCJ2IjpbXX0", id="wrong-length"),  # {"o":"on","v":[]}
        pytest.param("eyJvIjoiYXJ0IiwidiI6WyJhIiwxXX0", id="other-ordering"),
    ],
)
async def test_bad_cursor_is_a_clear_error(bare_client, cursor):
    # when
    response = await bare_client.post(
        "/graphql", json={"query": OFFICES_AFTER_QUERY, "variables": {"after": cursor}}
    )

    # then
    assert response.json() == {
        "data": None,
        "errors": [
            {
                "message": "Invalid cursor for 'after'",
                "locations": [{"line": 1, "column": 33}],
                "path": ["offices"],
                "extensions": {"code": "BAD_USER_INPUT", "field": "after"},
            }
        ],
    }
    assert_nothing_leaks(response)


async def test_unknown_enum_value_is_a_clear_error(bare_client):
    # when
    response = await bare_client.post("/graphql", json={"query": ARTICLES_ORDER_QUERY})

    # then
    assert response.json() == {
        "data": None,
        "errors": [
            {
                "message": "Value 'SIDEWAYS' does not exist in 'ArticleOrder' enum.",
                "locations": [{"line": 1, "column": 21}],
            }
        ],
    }
    assert_nothing_leaks(response)


async def test_syntax_error_is_a_clear_error(bare_client):
    # when
    response = await bare_client.post("/graphql", json={"query": "{ articles { "})

    # then
    [error] = response.json()["errors"]
    assert error["message"].startswith("Syntax Error:")
    assert_nothing_leaks(response)


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        # Controls: these already come back as the client's errors.
        pytest.param(NODE_QUERY, {"id": "zzz"}, id="id-not-base64"),
        pytest.param(OFFICE_OPEN_QUERY, {"at": "2024-01-10T10:00:00"}, id="at-naive"),
        # IDs and cursors whose numbers no integer primary key can hold
        pytest.param(NODE_QUERY, {"id": b64("Office:99999999999")}, id="node-id-over-int32"),
        pytest.param(OFFICE_BY_ID_QUERY, {"id": b64("Office:99999999999")}, id="id-over-int32"),
        pytest.param(
            OFFICES_AFTER_QUERY,
            {"after": b64('{"o":"on","v":["x",1099511627776]}')},
            id="cursor-2^40",
        ),
        pytest.param(
            OFFICES_AFTER_QUERY,
            {"after": b64('{"o":"on","v":["x",9223372036854775808]}')},
            id="cursor-2^63",
        ),
        # NUL cannot be stored in PostgreSQL text
        pytest.param(
            OFFICES_AFTER_QUERY, {"after": b64('{"o":"on","v":["a\\u0000b",1]}')}, id="cursor-nul"
        ),
        pytest.param(OFFICE_BY_SLUG_QUERY, {"slug": "kopyl\x00"}, id="slug-nul"),
        # Instants at the ends of the calendar
        pytest.param(OFFICE_OPEN_QUERY, {"at": "9999-12-31T20:00:00+03:00"}, id="at-year-9999"),
        pytest.param(OFFICE_OPEN_QUERY, {"at": "0001-01-01T00:30:00+03:00"}, id="at-year-1"),
        # A filter instant without an offset, like isOpen's `at`
        pytest.param(
            ARTICLES_AFTER_DATE_QUERY, {"after": "2024-01-01T00:00:00"}, id="filter-naive"
        ),
    ],
)
async def test_bad_arguments_are_the_clients_errors_not_internal_ones(
    client, sessionmaker, query, variables
):
    # given: the seed office, so office fields get as far as their resolvers
    async with sessionmaker() as session:
        await load_seed(session)

    # when
    response = await client.post(
        "/graphql", json={"query": query, "variables": {"slug": OFFICE.slug, **variables}}
    )

    # then: either an answer (e.g. null: no such object) or errors the client can act on
    body = response.json()
    codes = [error.get("extensions", {}).get("code") for error in body.get("errors", [])]
    assert set(codes) <= {"BAD_USER_INPUT"}, body
    assert_nothing_leaks(response)


async def test_unexpected_error_is_masked_with_a_request_id(app_client, tmp_path, caplog):
    # given: a database with no tables, so every query fails inside the driver
    client = app_client(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")

    # when
    with caplog.at_level(logging.ERROR, logger="vestnik.errors"):
        response = await client.post("/graphql", json={"query": ARTICLE_IDS_QUERY})

    # then: the client sees a generic message ...
    body = response.json()
    request_id = body["errors"][0]["extensions"]["requestId"]
    assert response.status_code == 200
    assert body == {
        "data": None,
        "errors": [
            {
                "message": "Internal server error",
                "locations": [{"line": 1, "column": 3}],
                "path": ["articles"],
                "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
            }
        ],
    }
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert "no such table" not in response.text
    assert_nothing_leaks(response)
    # ... and the log has the whole story under the same id
    [record] = [r for r in caplog.records if r.name == "vestnik.errors"]
    assert request_id in record.getMessage()
    assert record.exc_info is not None


async def test_each_masked_error_gets_its_own_request_id(app_client, tmp_path):
    # given
    client = app_client(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")

    # when
    first = await client.post("/graphql", json={"query": ARTICLE_IDS_QUERY})
    second = await client.post("/graphql", json={"query": ARTICLE_IDS_QUERY})

    # then
    ids = {r.json()["errors"][0]["extensions"]["requestId"] for r in (first, second)}
    assert len(ids) == 2
