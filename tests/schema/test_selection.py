"""Lean reads: the columns read follow the selection, and every selected field has its value."""

from typing import Any

import pytest

from models.rendering import reading_time_minutes
from schema.context import Context
from schema.root import build_schema
from tests.conftest import QueryCounter
from tests.factories import make_article, make_author

pytestmark = pytest.mark.anyio

SCHEMA = build_schema()

EVERY_FIELD_BY_NODE = """
query Everything($id: ID!) {
  node(id: $id) {
    ... on Article {
      id slug title lead body bodyHtml status language publishedAt createdAt updatedAt
      version sourceName sourceUrl readingTimeMinutes authors { name } tags { name }
      jsonLd corrections { note } translations { slug }
    }
  }
}
"""

EVERY_FIELD_IN_A_LIST = """
query {
  articles(first: 5) {
    nodes {
      id slug title lead body bodyHtml status language publishedAt createdAt updatedAt
      version sourceName sourceUrl readingTimeMinutes authors { name } tags { name }
      jsonLd corrections { note } translations { slug }
    }
  }
}
"""

READING_TIME = """
query { articles(first: 1) { nodes { readingTimeMinutes } } }
"""

DIRECTIVES = """
query Directives($body: Boolean!) {
  articles(first: 1) { nodes { title body @include(if: $body) lead @skip(if: $body) } }
}
"""


async def run(sessionmaker: Any, query: str, **variables: Any) -> Any:
    result = await SCHEMA.execute(
        query, variable_values=variables, context_value=Context(sessionmaker=sessionmaker)
    )
    assert result.errors is None, result.errors
    return result.data


async def test_a_list_answers_every_field_as_the_article_itself_does(sessionmaker):
    # given
    anna = await make_author(sessionmaker, "Anna")
    article = await make_article(sessionmaker, authors=[anna], source_name="BelTA")

    # when
    listed = await run(sessionmaker, EVERY_FIELD_IN_A_LIST)
    by_node = await run(sessionmaker, EVERY_FIELD_BY_NODE, id=listed["articles"]["nodes"][0]["id"])

    # then: the lean list and the whole-row node lookup agree on every field
    assert listed["articles"]["nodes"] == [by_node["node"]]
    assert by_node["node"]["body"] == article.body


async def test_reading_time_reads_the_body(sessionmaker, count_queries: QueryCounter):
    # given
    article = await make_article(sessionmaker, body="word " * 2000)

    # when
    count_queries.reset()
    data = await run(sessionmaker, READING_TIME)

    # then
    expected = reading_time_minutes(article.lead, article.body)
    assert data == {"articles": {"nodes": [{"readingTimeMinutes": expected}]}}
    assert expected > 1
    assert any("body" in statement for statement in count_queries.statements)


@pytest.mark.parametrize("body", [True, False])
async def test_skip_and_include_still_answer_right(sessionmaker, body):
    # given
    article = await make_article(sessionmaker)

    # when
    data = await run(sessionmaker, DIRECTIVES, body=body)

    # then
    expected = {"title": article.title}
    expected |= {"body": article.body} if body else {"lead": article.lead}
    assert data == {"articles": {"nodes": [expected]}}
