"""No N+1: a list field costs the same number of SQL statements for 1 row as for 100."""

from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from models import Article
from models.db import SessionMaker
from schema.context import Context
from schema.node import to_global_id
from schema.root import build_schema
from tests.conftest import QueryCounter
from tests.factories import make_article, make_author, make_office, make_tag

pytestmark = pytest.mark.anyio

SIZE = 101  # one more than the largest page, so a page of 100 is a full one

ARTICLES_WITH_BYLINES = """
query ArticlesWithBylines($n: Int!) {
  articles(first: $n) { nodes { authors { name } tags { name } } }
}
"""

AUTHORS_WITH_ARTICLES = """
query AuthorsWithArticles($n: Int!) {
  authors(first: $n) { nodes { articles(first: 5) { nodes { title tags { name } } } } }
}
"""

TAGS_WITH_COUNTS = """
query TagsWithCounts($n: Int!) {
  tags(first: $n) { nodes { articles { totalCount } } }
}
"""

NODES = """
query Nodes($ids: [ID!]!) { nodes(ids: $ids) { id } }
"""


async def graphql(client: httpx.AsyncClient, query: str, **variables: Any) -> Any:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body


async def given_articles_with_two_authors_and_two_tags(sessionmaker: SessionMaker) -> list[Article]:
    """A ring: article i has authors and tags i and i+1, so each author and tag has two articles."""
    authors = [await make_author(sessionmaker) for _ in range(SIZE)]
    tags = [await make_tag(sessionmaker) for _ in range(SIZE)]
    return [
        await make_article(
            sessionmaker,
            authors=[authors[i], authors[(i + 1) % SIZE]],
            tags=[tags[i], tags[(i + 1) % SIZE]],
        )
        for i in range(SIZE)
    ]


async def statements(
    client: httpx.AsyncClient, counter: QueryCounter, query: str, **variables: Any
) -> tuple[Any, list[str]]:
    """The response and the SQL it took."""
    counter.reset()
    body = await graphql(client, query, **variables)
    return body, list(counter.statements)


async def test_articles_with_authors_and_tags(client, sessionmaker, count_queries):
    # given
    await given_articles_with_two_authors_and_two_tags(sessionmaker)
    # The first connection's set-up is not counted; other variables than the counted calls',
    # so the response cache cannot answer those.
    await graphql(client, ARTICLES_WITH_BYLINES, n=2)

    # when
    one, for_one = await statements(client, count_queries, ARTICLES_WITH_BYLINES, n=1)
    hundred, for_hundred = await statements(client, count_queries, ARTICLES_WITH_BYLINES, n=100)

    # then
    nodes = hundred["data"]["articles"]["nodes"]
    assert len(one["data"]["articles"]["nodes"]) == 1
    assert len(nodes) == 100
    assert all(len(node["authors"]) == 2 and len(node["tags"]) == 2 for node in nodes)
    assert len(for_hundred) == len(for_one), for_hundred


async def test_authors_with_their_articles_and_tags(client, sessionmaker, count_queries):
    # given
    await given_articles_with_two_authors_and_two_tags(sessionmaker)
    await graphql(client, AUTHORS_WITH_ARTICLES, n=2)

    # when
    one, for_one = await statements(client, count_queries, AUTHORS_WITH_ARTICLES, n=1)
    hundred, for_hundred = await statements(client, count_queries, AUTHORS_WITH_ARTICLES, n=100)

    # then
    nodes = hundred["data"]["authors"]["nodes"]
    assert len(one["data"]["authors"]["nodes"]) == 1
    assert len(nodes) == 100
    articles = [article for node in nodes for article in node["articles"]["nodes"]]
    assert len(articles) == 200
    assert all(len(article["tags"]) == 2 for article in articles)
    assert len(for_hundred) == len(for_one), for_hundred
    # one per level (planned): the authors, all their articles, all those articles' tags
    # (SQLite's response cache reads the content version too)
    reads = [statement for statement in for_one if "content_state" not in statement]
    assert len(reads) == 3, for_one


async def test_tags_with_article_counts(client, sessionmaker, count_queries):
    # given
    await given_articles_with_two_authors_and_two_tags(sessionmaker)
    await graphql(client, TAGS_WITH_COUNTS, n=2)

    # when
    one, for_one = await statements(client, count_queries, TAGS_WITH_COUNTS, n=1)
    hundred, for_hundred = await statements(client, count_queries, TAGS_WITH_COUNTS, n=100)

    # then
    assert one == {"data": {"tags": {"nodes": [{"articles": {"totalCount": 2}}]}}}
    assert hundred == {"data": {"tags": {"nodes": [{"articles": {"totalCount": 2}}] * 100}}}
    assert len(for_hundred) == len(for_one), for_hundred


async def test_nodes_by_ids(client, sessionmaker, count_queries):
    # given
    articles = [await make_article(sessionmaker) for _ in range(100)]
    ids = [to_global_id("Article", article.id) for article in articles]
    await graphql(client, NODES, ids=ids[1:2])

    # when
    one, for_one = await statements(client, count_queries, NODES, ids=ids[:1])
    hundred, for_hundred = await statements(client, count_queries, NODES, ids=ids)

    # then
    assert one == {"data": {"nodes": [{"id": ids[0]}]}}
    assert hundred == {"data": {"nodes": [{"id": id} for id in ids]}}
    assert len(for_hundred) == len(for_one), f"{len(for_hundred)} statements for 100 ids"


# --- the benchmark's queries (issue 5), through schema.execute: no HTTP response cache ---

BENCH_LIST_PAGE = """
query ListPage($n: Int!) {
  articles(first: $n) { nodes { title slug lead publishedAt authors { name } } }
}
"""

BENCH_ARTICLE = """
query ArticleBySlug($slug: String!) {
  article(slug: $slug) {
    title body bodyHtml sourceName sourceUrl language publishedAt updatedAt
    authors { name bio avatarUrl } tags { name slug }
  }
}
"""

BENCH_SEARCH = """
query Search($n: Int!) {
  articles(search: "body article", first: $n) { nodes { title slug lead publishedAt } }
}
"""

BENCH_DEEP = """
query Deep($n: Int!) {
  authors(first: $n) {
    nodes { name slug articles(first: 10) { nodes { title slug publishedAt tags { name } } } }
  }
}
"""

BENCH_OFFICES = """
query Offices($n: Int!) {
  offices(first: $n) {
    nodes {
      name address { formatted postalCode region locality street }
      phones { kind label display uri } hours { weekday opens closes breaks { start end label } }
      isOpen
    }
  }
}
"""

# The same selections through fragments, an inline fragment and aliases.
BENCH_LIST_PAGE_FRAGMENTS = """
query ListPageFragments($n: Int!) {
  articles(first: $n) {
    edges { node { ...Card } }
    nodes { ... on Article { headline: title byline: authors { name } } }
  }
}
fragment Card on Article { slug lead publishedAt tags { name } }
"""


async def executed(
    sessionmaker: SessionMaker, counter: QueryCounter, query: str, **variables: Any
) -> tuple[Any, list[str]]:
    """The data and the SQL one ``schema.execute`` took."""
    counter.reset()
    result = await SCHEMA.execute(
        query, variable_values=variables, context_value=Context(sessionmaker=sessionmaker)
    )
    assert result.errors is None, result.errors
    return result.data, list(counter.statements)


SCHEMA = build_schema()


@pytest.mark.parametrize(
    ("query", "field", "many"),
    [
        (BENCH_LIST_PAGE, "articles", 100),
        (BENCH_LIST_PAGE_FRAGMENTS, "articles", 100),
        (BENCH_SEARCH, "articles", 100),
        (BENCH_DEEP, "authors", 50),  # 100 authors x 10 articles is past the cost limit
    ],
    ids=["list_page", "list_page_fragments", "search", "deep"],
)
async def test_bench_lists_cost_the_same_for_any_page_size(
    sessionmaker, count_queries, query, field, many
):
    # given
    await given_articles_with_two_authors_and_two_tags(sessionmaker)
    await executed(sessionmaker, count_queries, query, n=1)  # connection set-up not counted

    # when
    one, for_one = await executed(sessionmaker, count_queries, query, n=1)
    lots, for_lots = await executed(sessionmaker, count_queries, query, n=many)

    # then
    assert len(one[field]["nodes"]) == 1
    assert len(lots[field]["nodes"]) == many
    assert len(for_lots) == len(for_one), for_lots


async def test_bench_list_page_reads_no_bodies_and_prefetches_bylines(sessionmaker, count_queries):
    # given
    await given_articles_with_two_authors_and_two_tags(sessionmaker)

    # when
    data, sql = await executed(sessionmaker, count_queries, BENCH_LIST_PAGE, n=20)

    # then: two statements (the page, its bylines); neither reads a body
    assert len(data["articles"]["nodes"]) == 20
    assert all(len(node["authors"]) == 2 for node in data["articles"]["nodes"])
    assert len(sql) == 2, sql
    assert not [statement for statement in sql if "body" in statement], sql


async def test_fragments_and_aliases_get_every_column_they_select(sessionmaker, count_queries):
    # given
    await given_articles_with_two_authors_and_two_tags(sessionmaker)
    async with sessionmaker() as session:
        newest = (
            await session.exec(
                select(Article).order_by(col(Article.published_at).desc(), col(Article.id).desc())
            )
        ).first()
    assert newest is not None

    # when
    data, sql = await executed(sessionmaker, count_queries, BENCH_LIST_PAGE_FRAGMENTS, n=1)

    # then: every field has its value, and still no body was read
    node = data["articles"]["edges"][0]["node"]
    assert node == {
        "slug": newest.slug,
        "lead": newest.lead,
        "publishedAt": newest.published_at.isoformat() if newest.published_at else None,
        "tags": node["tags"],
    }
    assert len(node["tags"]) == 2
    assert data["articles"]["nodes"][0]["headline"] == newest.title
    assert len(data["articles"]["nodes"][0]["byline"]) == 2
    assert not [statement for statement in sql if "body" in statement], sql


async def test_bench_article_by_slug_takes_three_statements(sessionmaker, count_queries):
    # given
    articles = await given_articles_with_two_authors_and_two_tags(sessionmaker)

    # when
    data, sql = await executed(sessionmaker, count_queries, BENCH_ARTICLE, slug=articles[5].slug)

    # then: the article, its byline, its tags
    assert data["article"]["title"] == articles[5].title
    assert data["article"]["body"] == articles[5].body
    assert len(data["article"]["authors"]) == 2
    assert len(data["article"]["tags"]) == 2
    assert len(sql) == 3, sql


async def test_bench_offices_cost_the_same_for_any_number(sessionmaker, count_queries):
    # given
    for _ in range(30):
        await make_office(sessionmaker)
    await executed(sessionmaker, count_queries, BENCH_OFFICES, n=1)

    # when
    one, for_one = await executed(sessionmaker, count_queries, BENCH_OFFICES, n=1)
    thirty, for_thirty = await executed(sessionmaker, count_queries, BENCH_OFFICES, n=30)

    # then: the offices, their phones, hours and exceptions (isOpen needs both)
    assert len(one["offices"]["nodes"]) == 1
    assert len(thirty["offices"]["nodes"]) == 30
    assert all(node["phones"] and node["hours"] for node in thirty["offices"]["nodes"])
    assert len(for_thirty) == len(for_one) == 4, for_thirty
