"""Every field of the read schema is declared once (schema/sources.py), and what is not
declared is not planned."""

import re
from datetime import UTC, datetime
from typing import cast

import pytest
from graphql import (
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    build_ast_schema,
    extend_schema,
    get_named_type,
    parse,
    print_schema,
)
from strawberry.dataloader import DataLoader

from models.article import Article
from models.author import Author
from models.db import SessionMaker
from models.office import Office, OfficeException, OfficeHours, OfficePhone
from models.revision import ArticleCorrection, ArticleRevision
from models.tag import Tag
from models.viewer import ANONYMOUS
from schema.compiled.plan import plan_operation
from schema.loaders import Loaders
from schema.root import build_schema
from schema.sources import Column, Computed, Nested, Relation, declaration
from schema.strawberry_internals import graphql_schema

SCHEMA = graphql_schema(build_schema())

# Admins' reads: answered by Strawberry's executor, outside the read schema's declarations.
ADMIN_TYPES = {"AuditLogEntry", "ApiToken", "Webhook", "WebhookDelivery"}

# The table each declared type reads its columns from.
TABLES = {
    "Article": Article,
    "Author": Author,
    "Tag": Tag,
    "Correction": ArticleCorrection,
    "Revision": ArticleRevision,
    "Office": Office,
    "Address": Office,
    "Phone": OfficePhone,
    "OpeningHours": OfficeHours,
    "HoursException": OfficeException,
}


def read_types(schema: GraphQLSchema) -> dict[str, GraphQLObjectType | GraphQLInterfaceType]:
    """Every object and interface type a query can reach, but for admins' types."""
    found: dict[str, GraphQLObjectType | GraphQLInterfaceType] = {}

    def walk(graphql_type: object) -> None:
        named = get_named_type(graphql_type)  # type: ignore[arg-type]
        if named.name in found or named.name in ADMIN_TYPES or named.name.startswith("__"):
            return
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            found[named.name] = named
            for field in named.fields.values():
                walk(field.type)
            if isinstance(named, GraphQLInterfaceType):
                for possible in schema.get_possible_types(named):
                    walk(possible)

    assert schema.query_type is not None
    walk(schema.query_type)
    return found


def uncovered(schema: GraphQLSchema) -> list[str]:
    """Types, fields and arguments of the read schema that no declaration covers."""
    missing = []
    for type_name, graphql_type in read_types(schema).items():
        try:
            declared = declaration(type_name)
        except KeyError:
            missing.append(type_name)
            continue
        for name, field in graphql_type.fields.items():
            if name not in declared.fields:
                missing.append(f"{type_name}.{name}")
                continue
            for argument in field.args:
                if argument not in declared.arguments(name):
                    missing.append(f"{type_name}.{name}({argument})")
        missing.extend(
            f"{type_name}.{name} (declared, not in the schema)"
            for name in declared.fields
            if name not in graphql_type.fields
        )
    return missing


def test_every_type_field_and_argument_of_the_read_schema_is_declared():
    assert uncovered(SCHEMA) == []


def test_admins_types_are_the_only_ones_left_out():
    types = {name for name in SCHEMA.type_map if not name.startswith("__")}
    reachable = set(read_types(SCHEMA))
    assert ADMIN_TYPES <= types
    assert "Article" in reachable and "OfficeConnection" in reachable


@pytest.mark.parametrize(
    ("extension", "named"),
    [
        ("extend type Article { wordCount: Int }", ["Article.wordCount"]),
        ("extend type Office { mapUrl: String }", ["Office.mapUrl"]),
        ("extend type Query { newest: Article }", ["Query.newest"]),
        (
            "type Image { url: String } extend type Article { image: Image }",
            ["Article.image", "Image"],
        ),
    ],
)
def test_a_field_added_without_a_declaration_is_named(extension, named):
    assert sorted(uncovered(extend_schema(SCHEMA, parse(extension)))) == named


def test_an_argument_added_without_a_declaration_is_named():
    assert uncovered(with_argument(SCHEMA, "articles", "since: DateTime")) == [
        "Query.articles(since)"
    ]


def test_every_column_named_is_a_column_of_its_table():
    for type_name, table in TABLES.items():
        columns = set(table.__table__.columns.keys())  # type: ignore[attr-defined]
        declared = declaration(type_name)
        for name, source in declared.fields.items():
            if isinstance(source, Column | Computed | Relation | Nested):
                assert set(source.columns) <= columns, (type_name, name, source.columns)


# --- what is not declared, the planner declines ---------------------------------------

LIST = parse("query { articles(first: 2) { nodes { title readingTimeMinutes } } }")


def with_argument(schema: GraphQLSchema, field: str, argument: str) -> GraphQLSchema:
    sdl, found = re.subn(
        rf"\n  {field}\(\n", f"\n  {field}(\n    {argument}\n", print_schema(schema)
    )
    assert found == 1
    return build_ast_schema(parse(sdl))


def test_the_planner_plans_the_declared_schema():
    assert plan_operation(SCHEMA, LIST, None) is not None
    rebuilt = build_ast_schema(parse(print_schema(SCHEMA)))
    assert plan_operation(rebuilt, LIST, None) is not None


def test_an_undeclared_argument_makes_the_planner_decline_even_when_not_sent():
    # Its default could change the answer: an argument the planner cannot read is not dropped.
    assert plan_operation(with_argument(SCHEMA, "articles", "since: DateTime"), LIST, None) is None


def test_an_undeclared_field_makes_the_planner_decline():
    schema = extend_schema(SCHEMA, parse("extend type Article { wordCount: Int }"))
    assert plan_operation(schema, LIST, None) is not None
    asking = parse("query { articles(first: 2) { nodes { title wordCount } } }")
    assert plan_operation(schema, asking, None) is None


def _declared(type_name: str) -> bool:
    try:
        declaration(type_name)
    except KeyError:
        return False
    return True


def test_pages_of_related_rows_name_the_loaders_that_read_them() -> None:
    # given: every relation with arguments (a page of rows in each parent)
    loaders = Loaders(cast(SessionMaker, None), ANONYMOUS, datetime.now(UTC))  # never reads
    pages = [
        source
        for type_name in read_types(SCHEMA)
        if _declared(type_name)
        for source in declaration(type_name).fields.values()
        if isinstance(source, Relation) and source.arguments
    ]

    # then: the resolver and the planner load them through the loaders they name
    assert len(pages) == 2  # an author's and a tag's articles
    for source in pages:
        assert isinstance(loaders.by_name(source.via), DataLoader)
        assert isinstance(loaders.by_name(source.counted_by), DataLoader)
    with pytest.raises(LookupError, match="no loader named 'nope'"):
        loaders.by_name("nope")
