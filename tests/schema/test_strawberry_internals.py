"""Pins what schema/strawberry_internals.py relies on of Strawberry's private API."""

from graphql import GraphQLSchema, parse
from graphql.execution.values import get_argument_values

from models.services.articles import ArticleOrder
from schema.articles.queries import ArticleFilter
from schema.enums import Language
from schema.root import build_schema
from schema.strawberry_internals import graphql_schema, resolver_arguments

STRAWBERRY = build_schema()


def test_graphql_schema_is_graphql_cores_schema_of_the_strawberry_schema():
    schema = graphql_schema(STRAWBERRY)
    assert isinstance(schema, GraphQLSchema)
    assert schema.query_type is not None
    assert "articles" in schema.query_type.fields


def test_resolver_arguments_are_what_the_resolver_receives():
    schema = graphql_schema(STRAWBERRY)
    document = parse(
        '{ articles(first: 2, filter: {sourceName: "BelTA", language: RU},'
        " orderBy: TITLE_ASC) { nodes { title } } }"
    )
    node = document.definitions[0].selection_set.selections[0]  # type: ignore[attr-defined]
    assert schema.query_type is not None
    given = get_argument_values(schema.query_type.fields["articles"], node, {})

    converted = resolver_arguments(STRAWBERRY, "Query", "articles", given)

    assert converted == {
        "first": 2,
        "after": None,
        "last": None,
        "before": None,
        "filter": ArticleFilter(language=Language.RU, source_name="BelTA"),
        "search": None,
        "order_by": ArticleOrder.TITLE_ASC,
    }
