"""No N+1: a list field costs the same number of SQL statements for 1 row as for 100."""

from typing import Any

import httpx
import pytest

from models import Article
from models.db import SessionMaker
from schema.node import to_global_id
from tests.conftest import QueryCounter
from tests.factories import make_article, make_author, make_tag

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
    await graphql(client, ARTICLES_WITH_BYLINES, n=1)  # first connection's set-up is not counted

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
    await graphql(client, AUTHORS_WITH_ARTICLES, n=1)

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


async def test_tags_with_article_counts(client, sessionmaker, count_queries):
    # given
    await given_articles_with_two_authors_and_two_tags(sessionmaker)
    await graphql(client, TAGS_WITH_COUNTS, n=1)

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
    await graphql(client, NODES, ids=ids[:1])

    # when
    one, for_one = await statements(client, count_queries, NODES, ids=ids[:1])
    hundred, for_hundred = await statements(client, count_queries, NODES, ids=ids)

    # then
    assert one == {"data": {"nodes": [{"id": ids[0]}]}}
    assert hundred == {"data": {"nodes": [{"id": id} for id in ids]}}
    assert len(for_hundred) == len(for_one), f"{len(for_hundred)} statements for 100 ids"
