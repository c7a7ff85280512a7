"""Keyset pagination of the article list: walking both ways in every order, limits, bad cursors."""

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from models import Article
from models.db import SessionMaker
from tests.factories import make_article, make_author, make_tag

pytestmark = pytest.mark.anyio

BASE = datetime(2024, 3, 1, 12, tzinfo=UTC)
ORDERS = ["PUBLISHED_AT_DESC", "PUBLISHED_AT_ASC", "TITLE_ASC", "UPDATED_AT_DESC"]

PAGE = """
query Page($first: Int, $after: String, $last: Int, $before: String, $orderBy: ArticleOrder) {
  articles(first: $first, after: $after, last: $last, before: $before, orderBy: $orderBy) {
    edges { cursor node { slug } }
    nodes { slug }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    totalCount
  }
}
"""

AUTHORS_PAGE = """
query AuthorsPage($first: Int, $last: Int) {
  authors(first: $first, last: $last) { pageInfo { endCursor } }
}
"""

OTHER_CONNECTIONS = """
query OtherConnections($first: Int, $last: Int) {
  authors(first: $first, last: $last) { totalCount }
}
"""

TAGS_PAGE = """
query TagsPage($first: Int, $last: Int) { tags(first: $first, last: $last) { totalCount } }
"""

AUTHOR_ARTICLES = """
query AuthorArticles($slug: String!, $first: Int, $after: String) {
  author(slug: $slug) { articles(first: $first, after: $after) { totalCount } }
}
"""


async def graphql(client: httpx.AsyncClient, query: str, **variables: Any) -> Any:
    """POST a document; variables given as None are left out (so defaults apply)."""
    given = {name: value for name, value in variables.items() if value is not None}
    response = await client.post("/graphql", json={"query": query, "variables": given})
    assert response.status_code == 200, response.text
    return response.json()


def without_locations(body: Any) -> Any:
    if "errors" not in body:
        return body
    errors = [{k: v for k, v in error.items() if k != "locations"} for error in body["errors"]]
    return {**body, "errors": errors}


def assert_no_stack_trace(body: Any) -> None:
    text = json.dumps(body)
    assert "Traceback" not in text
    assert 'File "' not in text


def forged_cursor(payload: object) -> str:
    """A cursor as the API encodes them, with contents no page ever produced."""
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


def bad_input(message: str, field: str, path: list[str | int] | None = None) -> Any:
    return {
        "data": None,
        "errors": [
            {
                "message": message,
                "path": path or ["articles"],
                "extensions": {"code": "BAD_USER_INPUT", "field": field},
            }
        ],
    }


@dataclass(frozen=True)
class Row:
    id: int
    slug: str
    title: str
    published_at: datetime
    updated_at: datetime


def expected_order(rows: list[Row], order: str) -> list[str]:
    """The order the contract promises, worked out independently of the product."""
    keys = {
        "PUBLISHED_AT_DESC": (lambda r: (r.published_at, r.id), True),
        "PUBLISHED_AT_ASC": (lambda r: (r.published_at, r.id), False),
        "TITLE_ASC": (lambda r: (r.title, r.id), False),
        "UPDATED_AT_DESC": (lambda r: (r.updated_at, r.id), True),
    }
    key, reverse = keys[order]
    return [row.slug for row in sorted(rows, key=key, reverse=reverse)]


async def given_articles(sessionmaker: SessionMaker, engine: AsyncEngine, count: int) -> list[Row]:
    """``count`` articles whose keys tie in threes and disagree with id order and each other."""
    rows = []
    for i in range(count):
        published_at = BASE + timedelta(hours=(i * 13) % 15)
        title = f"Title {(i * 7) % 15:02d}"
        article = await make_article(
            sessionmaker, title, slug=f"p{i:02d}", published_at=published_at
        )
        assert article.id is not None
        updated_at = BASE + timedelta(minutes=(i * 11) % 9)
        rows.append(Row(article.id, article.slug, title, published_at, updated_at))
    # No service edits updated_at directly; pin it so ties are certain and the order is known.
    async with engine.begin() as connection:
        for row in rows:
            await connection.execute(
                sa.update(Article)
                .where(sa.column("id") == row.id)
                .values(updated_at=row.updated_at)
            )
    return rows


def slugs(connection: Any) -> list[str]:
    return [edge["node"]["slug"] for edge in connection["edges"]]


def assert_consistent(connection: Any, total: int) -> None:
    """Edges, nodes, cursors and totalCount of one page agree with each other."""
    assert [node["slug"] for node in connection["nodes"]] == slugs(connection)
    cursors = [edge["cursor"] for edge in connection["edges"]]
    assert len(set(cursors)) == len(cursors)
    info = connection["pageInfo"]
    assert info["startCursor"] == (cursors[0] if cursors else None)
    assert info["endCursor"] == (cursors[-1] if cursors else None)
    assert connection["totalCount"] == total


def flags(connection: Any) -> tuple[bool, bool]:
    info = connection["pageInfo"]
    return info["hasPreviousPage"], info["hasNextPage"]


# --- walking ----------------------------------------------------------------------------------


@pytest.mark.parametrize("order", ORDERS)
async def test_walk_forward_then_backward(client, sessionmaker, engine, order):
    # given
    rows = await given_articles(sessionmaker, engine, 45)
    expected = expected_order(rows, order)

    # when: forward with first/after until the end
    forward, after = [], None
    for _ in range(5):
        body = await graphql(client, PAGE, first=20, after=after, orderBy=order)
        page = body["data"]["articles"]
        forward.append(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    # then: every article once, in order, in pages of 20, 20, 5
    assert [slug for page in forward for slug in slugs(page)] == expected
    assert [len(page["edges"]) for page in forward] == [20, 20, 5]
    assert [flags(page) for page in forward] == [(False, True), (True, True), (True, False)]
    for page in forward:
        assert_consistent(page, 45)

    # when: backward with last/before from the end
    backward, before = [], None
    for _ in range(5):
        body = await graphql(client, PAGE, last=20, before=before, orderBy=order)
        page = body["data"]["articles"]
        backward.append(page)
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]

    # then: the same articles, each page still in display order
    assert [slug for page in reversed(backward) for slug in slugs(page)] == expected
    assert [slugs(page) for page in backward] == [expected[25:], expected[5:25], expected[:5]]
    assert [flags(page) for page in backward] == [(True, False), (True, True), (False, True)]
    for page in backward:
        assert_consistent(page, 45)


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("PUBLISHED_AT_DESC", ["t4", "t3", "t2", "t1", "t0"]),
        ("PUBLISHED_AT_ASC", ["t0", "t1", "t2", "t3", "t4"]),
    ],
)
async def test_ties_in_published_at_are_broken_by_id(client, sessionmaker, order, expected):
    # given: five articles published at the same instant
    for i in range(5):
        await make_article(sessionmaker, slug=f"t{i}", published_at=BASE)

    # when: pages of two across the ties
    walked, after = [], None
    for _ in range(3):
        body = await graphql(client, PAGE, first=2, after=after, orderBy=order)
        walked += slugs(body["data"]["articles"])
        after = body["data"]["articles"]["pageInfo"]["endCursor"]

    # then
    assert walked == expected


async def test_backward_from_a_cursor_in_the_middle(client, sessionmaker, engine):
    # given
    rows = await given_articles(sessionmaker, engine, 10)
    expected = expected_order(rows, "PUBLISHED_AT_DESC")
    page = (await graphql(client, PAGE, first=6))["data"]["articles"]
    sixth = page["edges"][5]["cursor"]

    # when
    body = await graphql(client, PAGE, last=3, before=sixth)

    # then: the three before the sixth; more before them, and the sixth itself after
    connection = body["data"]["articles"]
    assert slugs(connection) == expected[2:5]
    assert flags(connection) == (True, True)


async def test_first_with_before_takes_the_first_rows_before_the_cursor(
    client, sessionmaker, engine
):
    # given
    rows = await given_articles(sessionmaker, engine, 10)
    expected = expected_order(rows, "PUBLISHED_AT_DESC")
    eighth = (await graphql(client, PAGE, first=8))["data"]["articles"]["edges"][7]["cursor"]

    # when
    body = await graphql(client, PAGE, first=3, before=eighth)

    # then: the first three of the seven before the eighth; nothing before, more after
    connection = body["data"]["articles"]
    assert slugs(connection) == expected[:3]
    assert flags(connection) == (False, True)


async def test_between_two_cursors(client, sessionmaker, engine):
    # given
    rows = await given_articles(sessionmaker, engine, 10)
    expected = expected_order(rows, "PUBLISHED_AT_DESC")
    edges = (await graphql(client, PAGE, first=10))["data"]["articles"]["edges"]

    # when: after the second, before the seventh
    body = await graphql(client, PAGE, after=edges[1]["cursor"], before=edges[6]["cursor"])

    # then
    connection = body["data"]["articles"]
    assert slugs(connection) == expected[2:6]
    assert flags(connection) == (True, True)


async def test_default_page_size_is_20(client, sessionmaker, engine):
    # given
    rows = await given_articles(sessionmaker, engine, 25)
    expected = expected_order(rows, "PUBLISHED_AT_DESC")

    # when
    forward = (await graphql(client, PAGE))["data"]["articles"]
    end = (await graphql(client, PAGE, first=25))["data"]["articles"]["pageInfo"]["endCursor"]
    backward = (await graphql(client, PAGE, before=end))["data"]["articles"]

    # then
    assert slugs(forward) == expected[:20]
    assert flags(forward) == (False, True)
    assert slugs(backward) == expected[4:24]
    assert flags(backward) == (True, True)


async def test_first_0_returns_no_edges_but_counts(client, sessionmaker):
    # given
    for _ in range(3):
        await make_article(sessionmaker)

    # when
    body = await graphql(client, PAGE, first=0)

    # then
    assert body == {
        "data": {
            "articles": {
                "edges": [],
                "nodes": [],
                "pageInfo": {
                    "hasNextPage": True,
                    "hasPreviousPage": False,
                    "startCursor": None,
                    "endCursor": None,
                },
                "totalCount": 3,
            }
        }
    }


async def test_first_100_is_allowed_and_an_empty_list_has_no_pages(client, sessionmaker):
    # when: nothing stored
    empty = await graphql(client, PAGE, first=100)

    # then
    assert empty == {
        "data": {
            "articles": {
                "edges": [],
                "nodes": [],
                "pageInfo": {
                    "hasNextPage": False,
                    "hasPreviousPage": False,
                    "startCursor": None,
                    "endCursor": None,
                },
                "totalCount": 0,
            }
        }
    }


# --- bad input ---------------------------------------------------------------------------------

GARBAGE_CURSORS = {
    "not base64 at all": "%%%",
    "base64, not JSON": base64.urlsafe_b64encode(b"hello world").decode(),
    "JSON, not an object": forged_cursor([1, 2]),
    "too few values": forged_cursor({"o": "pd", "v": [1]}),
    "wrong value types": forged_cursor({"o": "pd", "v": [1, "x"]}),
    "datetime without offset": forged_cursor({"o": "pd", "v": ["2024-03-01T12:00:00", 1]}),
    "not a datetime": forged_cursor({"o": "pd", "v": ["yesterday", 1]}),
    "unknown ordering": forged_cursor({"o": "zz", "v": ["2024-03-01T12:00:00+00:00", 1]}),
}


async def test_bad_page_arguments_are_clear_errors(client):
    # given
    cases: dict[str, tuple[dict[str, Any], Any]] = {
        "first: -1": ({"first": -1}, bad_input("first must be between 0 and 100", "first")),
        "first: 1000": ({"first": 1000}, bad_input("first must be between 0 and 100", "first")),
        "first: 101": ({"first": 101}, bad_input("first must be between 0 and 100", "first")),
        "last: -1": ({"last": -1}, bad_input("last must be between 0 and 100", "last")),
        "last: 1000": ({"last": 1000}, bad_input("last must be between 0 and 100", "last")),
        "first and last": (
            {"first": 5, "last": 5},
            bad_input("Pass either first or last, not both", "last"),
        ),
        "garbage before": (
            {"before": "garbage"},
            bad_input("Invalid cursor for 'before'", "before"),
        ),
    }
    for name, cursor in GARBAGE_CURSORS.items():
        cases[name] = ({"after": cursor}, bad_input("Invalid cursor for 'after'", "after"))

    # when
    got = {name: await graphql(client, PAGE, **variables) for name, (variables, _) in cases.items()}

    # then
    assert {name: without_locations(body) for name, body in got.items()} == {
        name: expected for name, (_, expected) in cases.items()
    }
    assert_no_stack_trace(got)


async def test_a_cursor_from_another_ordering_is_refused(client, sessionmaker):
    # given: cursors of the same shape (datetime, id) and of another connection
    await make_article(sessionmaker)
    await make_author(sessionmaker)
    ascending = await graphql(client, PAGE, first=1, orderBy="PUBLISHED_AT_ASC")
    by_title = await graphql(client, PAGE, first=1, orderBy="TITLE_ASC")
    authors = await graphql(client, AUTHORS_PAGE, first=1)

    # when
    got = {
        name: await graphql(client, PAGE, first=1, after=cursor)
        for name, cursor in {
            "PUBLISHED_AT_ASC": ascending["data"]["articles"]["pageInfo"]["endCursor"],
            "TITLE_ASC": by_title["data"]["articles"]["pageInfo"]["endCursor"],
            "authors": authors["data"]["authors"]["pageInfo"]["endCursor"],
        }.items()
    }

    # then
    assert {name: without_locations(body) for name, body in got.items()} == {
        name: bad_input("Invalid cursor for 'after'", "after")
        for name in ("PUBLISHED_AT_ASC", "TITLE_ASC", "authors")
    }


@pytest.mark.parametrize("id", [2**40, 2**63 + 5], ids=["beyond-int4", "beyond-int64"])
async def test_forged_cursor_with_an_out_of_range_id_is_a_clear_error(client, sessionmaker, id):
    # given: a cursor of the right shape whose id no row can have
    await make_article(sessionmaker)
    cursor = forged_cursor({"o": "ta", "v": ["Title", id]})

    # when
    body = await graphql(client, PAGE, first=1, after=cursor, orderBy="TITLE_ASC")

    # then: refused like any other bad cursor, not an internal error
    assert without_locations(body) == bad_input("Invalid cursor for 'after'", "after")


async def test_page_size_limits_apply_to_every_connection(client, sessionmaker):
    # given
    author = await make_author(sessionmaker, slug="anna")
    await make_tag(sessionmaker)
    await make_article(sessionmaker, authors=[author])

    # when
    got = {
        "authors first 1000": await graphql(client, OTHER_CONNECTIONS, first=1000),
        "tags last -1": await graphql(client, TAGS_PAGE, last=-1),
        "author articles first 101": await graphql(client, AUTHOR_ARTICLES, slug="anna", first=101),
        "author articles garbage": await graphql(
            client, AUTHOR_ARTICLES, slug="anna", after="garbage"
        ),
    }

    # then
    assert {name: without_locations(body) for name, body in got.items()} == {
        "authors first 1000": bad_input("first must be between 0 and 100", "first", ["authors"]),
        "tags last -1": bad_input("last must be between 0 and 100", "last", ["tags"]),
        "author articles first 101": {
            "data": {"author": None},
            "errors": [
                {
                    "message": "first must be between 0 and 100",
                    "path": ["author", "articles"],
                    "extensions": {"code": "BAD_USER_INPUT", "field": "first"},
                }
            ],
        },
        "author articles garbage": {
            "data": {"author": None},
            "errors": [
                {
                    "message": "Invalid cursor for 'after'",
                    "path": ["author", "articles"],
                    "extensions": {"code": "BAD_USER_INPUT", "field": "after"},
                }
            ],
        },
    }
    assert_no_stack_trace(got)
