"""Pins what schema/strawberry_internals.py relies on of Strawberry's private API."""

import strawberry
from graphql import GraphQLError, GraphQLSchema, parse
from graphql.execution.values import get_argument_values

from models.services.articles import ArticleOrder
from schema.articles.queries import ArticleFilter
from schema.enums import Language
from schema.root import build_schema
from schema.strawberry_internals import MaskedErrors, graphql_schema, resolver_arguments

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


def test_masked_errors_hands_each_results_masked_errors_to_after_masking():
    seen: list[list[str]] = []

    class Recording(MaskedErrors):
        def after_masking(self, errors: list[GraphQLError]) -> list[GraphQLError]:
            seen.append([error.message for error in errors])
            for error in errors:
                error.extensions = {"code": "SEEN"}
            return errors

    @strawberry.type
    class Query:
        @strawberry.field
        def broken(self) -> str | None:
            raise RuntimeError("secret detail")

        @strawberry.field
        def refused(self) -> str | None:
            raise GraphQLError("shown")

    schema = strawberry.Schema(
        Query,
        extensions=[
            lambda: Recording(
                should_mask_error=lambda error: isinstance(error.original_error, RuntimeError),
                error_message="x",
            )
        ],
    )

    result = schema.execute_sync("{ broken refused }")

    assert [error.message for error in result.errors or []] == ["x", "shown"]
    assert seen == [["x", "shown"]]
    assert [error.extensions for error in result.errors or []] == [{"code": "SEEN"}] * 2
