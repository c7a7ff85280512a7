"""Hostile documents: depth, aliases, tokens, cost, introspection and batching limits.

Every refusal is a GraphQL error with ``extensions.code`` and a message a person can act
on, arrives before any resolver runs, leaks nothing about the server, and leaves the
server answering the next ordinary query.
"""

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import OperationDefinitionNode, get_introspection_query, parse
from sqlalchemy.ext.asyncio import AsyncEngine

from schema.limits import (
    LIMIT_REFUSALS,
    OperationMeasurer,
    QueryLimits,
    check_document,
)
from schema.root import build_schema
from schema.strawberry_internals import graphql_schema
from server.app import create_app
from server.settings import Settings

pytestmark = pytest.mark.anyio

README = Path(__file__).resolve().parents[2] / "README.md"

NORMAL = "{ articles(first: 1) { totalCount } }"
NORMAL_ANSWER = {"data": {"articles": {"totalCount": 0}}}

# Nested 15 fields deep; one article per page keeps its cost (15) far below the limit.
DEPTH_BOMB = (
    "{ articles(first: 1) { nodes { tags { articles(first: 1) { nodes { tags {"
    " articles(first: 1) { nodes { tags { articles(first: 1) { nodes { tags {"
    " articles(first: 1) { nodes { title } } } } } } } } } } } } } } }"
)
DEPTH_BOMB_IN_FRAGMENTS = """
{ articles(first: 1) { nodes { ...Deeper } } }
fragment Deeper on Article { tags { articles(first: 1) { nodes { ...Deepest } } } }
fragment Deepest on Article {
  tags { articles(first: 1) { nodes { tags { articles(first: 1) { nodes { tags { name } } } } } } }
}
"""
ALIAS_BOMB = "{ " + " ".join(f"a{i}: __typename" for i in range(100)) + " }"
ALIASES_IN_FRAGMENTS = """
{
  first: articles(first: 1) { nodes { ...Titles } }
  second: articles(first: 1) { nodes { ...Titles } }
}
fragment Titles on Article {
  t1: title t2: title t3: title t4: title t5: title t6: title t7: title t8: title
  t9: title t10: title t11: title t12: title t13: title t14: title t15: title
}
"""
TEN_THOUSAND_FIELDS = "{ articles { nodes { " + "title " * 10_000 + "} } }"
COMMENT_PADDED = "{ __typename }\n" + "#\n" * 10_000
DIRECTIVE_OVERLOAD = "{ __typename" + " @include(if: true)" * 1000 + " }"
REPEATED_DIRECTIVES = "{ __typename" + " @skip(if: false)" * 3 + " }"
FIELDS_IN_A_CONNECTION = "{ articles(first: 100) { nodes { " + "title " * 60 + "} } }"
CIRCULAR_FRAGMENTS = """
{ articles(first: 1) { nodes { ...A } } }
fragment A on Article { tags { articles(first: 1) { nodes { ...B } } } }
fragment B on Article { ...A }
"""
SELF_SPREAD = "{ ...Itself } fragment Itself on Query { __typename ...Itself }"
NESTED_CONNECTIONS = """
{ articles(first: 100) { nodes { tags { articles(first: 100) { nodes { title } } } } } }
"""
NESTED_CONNECTIONS_BY_VARIABLE = """
query Nested($size: Int = 100) {
  articles(last: $size) { nodes { tags { articles(first: $size) { nodes { title } } } } }
}
"""
NODES_THEN_CONNECTIONS = """
query Tags($ids: [ID!]!) {
  nodes(ids: $ids) { ... on Tag { articles(first: 100) { nodes { title } } } }
}
"""
INTROSPECTION = "{ __schema { queryType { name } } }"
TYPE_INTROSPECTION = '{ __type(name: "Article") { fields { name } } }'
TYPENAME = "{ __typename articles(first: 1) { __typename } }"
MISSPELLED_FIELD = "{ articls(first: 1) { totalCount } }"
MISSPELLED_ARGUMENT = "{ articles(frist: 1) { totalCount } }"
MISSPELLED_TYPE = "query Q($f: ArticleFiltr) { articles(filter: $f) { totalCount } }"

# Fragments that must never reach a client.
LEAKS = ("Traceback", 'File "', "/work/", ".py", "SELECT", "sqlite3", "asyncpg", "sqlalchemy")

Client = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def app_client(engine: AsyncEngine) -> AsyncIterator[Client]:
    """Clients for apps with the given settings (the rest default) on the test database."""
    async with AsyncExitStack() as stack:

        async def make(**settings: Any) -> httpx.AsyncClient:
            app = create_app(
                Settings(migrate_on_start=False, seed_on_start=False, **settings), engine=engine
            )
            transport = httpx.ASGITransport(app=app)
            client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
            return await stack.enter_async_context(client)

        yield make


async def post(client: httpx.AsyncClient, query: str, **variables: object) -> httpx.Response:
    return await client.post("/graphql", json={"query": query, "variables": variables or None})


def refused(message: str, code: str) -> dict[str, object]:
    return {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}


async def assert_refused_then_recovers(
    client: httpx.AsyncClient, response: httpx.Response, expected: dict[str, object]
) -> None:
    """The refusal is exactly ``expected``, leaks nothing, and the next query is answered."""
    assert (response.status_code, response.json()) == (200, expected)
    for fragment in LEAKS:
        assert fragment not in response.text, f"{fragment!r} leaked into {response.text!r}"
    after = await post(client, NORMAL)
    assert (after.status_code, after.json()) == (200, NORMAL_ANSWER)


# -- depth ----------------------------------------------------------------------------------


async def test_a_depth_bomb_is_refused(client):
    # when
    response = await post(client, DEPTH_BOMB)

    # then
    expected = refused(
        "The query is nested 15 levels deep; at most 12 are allowed", "QUERY_TOO_DEEP"
    )
    await assert_refused_then_recovers(client, response, expected)


async def test_depth_counts_through_fragments(client):
    # when
    response = await post(client, DEPTH_BOMB_IN_FRAGMENTS)

    # then
    expected = refused(
        "The query is nested 13 levels deep; at most 12 are allowed", "QUERY_TOO_DEEP"
    )
    await assert_refused_then_recovers(client, response, expected)


async def test_the_depth_limit_is_a_setting(app_client):
    # given
    client = await app_client(max_query_depth=20)

    # when
    response = await post(client, DEPTH_BOMB)

    # then
    assert response.json() == {"data": {"articles": {"nodes": []}}}


async def test_fragments_chained_past_the_interpreters_recursion_are_refused(client):
    # given: 25 fragments, each nesting 30 levels and spreading the next: 750 levels in all
    nest, close = "ofType { " * 30, "} " * 30
    fragments = "".join(
        f"fragment F{i} on __Type {{ {nest}...F{i + 1} {close}}}\n" for i in range(24)
    )
    document = (
        f'{{ __type(name: "Article") {{ ...F0 }} }}\n{fragments}'
        f"fragment F24 on __Type {{ {nest}name {close}}}"
    )

    # when
    response = await post(client, document)

    # then
    expected = refused("The query is nested too deeply", "QUERY_TOO_DEEP")
    await assert_refused_then_recovers(client, response, expected)


# -- aliases --------------------------------------------------------------------------------


async def test_an_alias_bomb_is_refused(client):
    # when
    response = await post(client, ALIAS_BOMB)

    # then
    expected = refused("The document uses 100 aliases; at most 30 are allowed", "TOO_MANY_ALIASES")
    await assert_refused_then_recovers(client, response, expected)


async def test_aliases_count_in_every_place_a_fragment_is_spread(client):
    # when: 2 aliased connections, each spreading a fragment of 15 aliases
    response = await post(client, ALIASES_IN_FRAGMENTS)

    # then
    expected = refused("The document uses 32 aliases; at most 30 are allowed", "TOO_MANY_ALIASES")
    await assert_refused_then_recovers(client, response, expected)


# -- tokens ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [TEN_THOUSAND_FIELDS, COMMENT_PADDED, DIRECTIVE_OVERLOAD],
    ids=["10,000 duplicated fields", "10,000 comments", "1,000 directives"],
)
async def test_oversized_documents_are_refused_while_parsing(client, document):
    # when
    response = await post(client, document)

    # then
    expected = refused(
        "The document has more than 3000 tokens (names, punctuation, values, comments); "
        "send a smaller one",
        "TOO_MANY_TOKENS",
    )
    await assert_refused_then_recovers(client, response, expected)


async def test_repeated_directives_under_the_token_limit_are_invalid(client):
    # when
    response = await post(client, REPEATED_DIRECTIVES)

    # then
    repeated = {
        "message": "The directive '@skip' can only be used once at this location.",
        "locations": [{"line": 1, "column": 14}, {"line": 1, "column": 31}],
    }
    again = {
        "message": "The directive '@skip' can only be used once at this location.",
        "locations": [{"line": 1, "column": 14}, {"line": 1, "column": 48}],
    }
    await assert_refused_then_recovers(
        client, response, {"data": None, "errors": [repeated, again]}
    )


# -- circular fragments ---------------------------------------------------------------------


async def test_circular_fragments_are_refused_without_hanging(client):
    # when
    response = await post(client, CIRCULAR_FRAGMENTS)

    # then
    cycle = {
        "message": "Cannot spread fragment 'A' within itself via 'B'.",
        "locations": [{"line": 3, "column": 61}, {"line": 4, "column": 25}],
    }
    await assert_refused_then_recovers(client, response, {"data": None, "errors": [cycle]})


async def test_a_fragment_spreading_itself_is_refused(client):
    # when
    response = await post(client, SELF_SPREAD)

    # then
    cycle = {
        "message": "Cannot spread fragment 'Itself' within itself.",
        "locations": [{"line": 1, "column": 53}],
    }
    await assert_refused_then_recovers(client, response, {"data": None, "errors": [cycle]})


# -- cost -----------------------------------------------------------------------------------


def too_complex(cost: int | str) -> dict[str, object]:
    return refused(
        f"The query would cost {cost} units; at most 5000 are allowed (each field costs 1, "
        "times the page size, first/last or 20, of every list it is inside): ask for "
        "smaller pages or fewer fields",
        "QUERY_TOO_COMPLEX",
    )


async def test_nested_connections_of_100_are_too_complex(client):
    # when: 1 + 100 x (nodes + tags + articles + 100 x (nodes + title))
    response = await post(client, NESTED_CONNECTIONS)

    # then
    await assert_refused_then_recovers(client, response, too_complex(20301))


async def test_duplicated_fields_in_a_connection_are_multiplied_by_its_page(client):
    # when: 1 + 100 x (nodes + 60 titles)
    response = await post(client, FIELDS_IN_A_CONNECTION)

    # then
    await assert_refused_then_recovers(client, response, too_complex(6101))


async def test_page_sizes_come_from_the_variables_then_their_defaults(client):
    # when
    by_default = await post(client, NESTED_CONNECTIONS_BY_VARIABLE)
    small = await post(client, NESTED_CONNECTIONS_BY_VARIABLE, size=5)

    # then: 1 + 5 x (3 + 5 x 2) = 66 is well within the limit
    await assert_refused_then_recovers(client, by_default, too_complex(20301))
    assert small.json() == {"data": {"articles": {"nodes": []}}}


async def test_a_list_fetched_by_ids_multiplies_by_their_number(client):
    # given
    ids = [f"id{i}" for i in range(100)]

    # when: 1 + 100 x (articles + 100 x (nodes + title))
    response = await post(client, NODES_THEN_CONNECTIONS, ids=ids)

    # then
    await assert_refused_then_recovers(client, response, too_complex(20101))


async def test_fragments_spread_exponentially_are_measured_once_each(client):
    # given: F40 spreads F39 twice, which spreads F38 twice, ... 2**40 fields in all
    fragments = "fragment F0 on Query { __typename }\n" + "\n".join(
        f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, 41)
    )

    # when
    response = await post(client, "{ ...F40 }\n" + fragments)

    # then
    await assert_refused_then_recovers(client, response, too_complex("over 1000000000"))


def measure(document: str, **variables: object) -> tuple[int, int, int]:
    """Depth, aliases and cost of a one-operation document, as the limits see them."""
    operation = parse(document).definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    measurer = OperationMeasurer(graphql_schema(build_schema()), {}, dict(variables))
    result = measurer.operation(operation)
    return result.depth, result.aliases, result.cost


@pytest.mark.parametrize(
    ("document", "variables", "expected"),
    [
        # each field 1; a connection's fields x its page size (20 when absent)
        ("{ articles { totalCount } }", {}, (2, 0, 21)),
        ("{ articles(first: 3) { totalCount nodes { title } } }", {}, (3, 0, 1 + 3 * 3)),
        ("{ articles(last: 3) { nodes { title } } }", {}, (3, 0, 1 + 3 * 2)),
        # at least 1: totalCount resolves even for an empty page; at most 100
        ("{ articles(first: 0) { totalCount } }", {}, (2, 0, 2)),
        ("{ articles(first: 1000) { totalCount } }", {}, (2, 0, 101)),
        # plain lists (bylines, tags) are not paged: they count once
        ("{ articles(first: 2) { nodes { tags { name } } } }", {}, (4, 0, 1 + 2 * 3)),
        # variables, and aliases
        (
            "query Q($n: Int) { a: articles(first: $n) { totalCount } }",
            {"n": 7},
            (2, 1, 1 + 7),
        ),
        # inline fragments count like their fields
        (
            '{ node(id: "x") { ... on Tag { articles(first: 2) { totalCount } } } }',
            {},
            (3, 0, 1 + 1 + 2),
        ),
        # __Type.ofType unwraps a type reference: it adds no depth
        ('{ __type(name: "Tag") { ofType { ofType { ofType { name } } } } }', {}, (2, 0, 5)),
    ],
)
def test_how_depth_aliases_and_cost_are_measured(document, variables, expected):
    assert measure(document, **variables) == expected


def test_graphiqls_introspection_query_is_within_the_default_limits():
    # given: what GraphiQL sends to draw its explorer (nine nested ofType)
    document = parse(get_introspection_query(descriptions=True, input_value_deprecation=True))

    # when
    refusals = list(check_document(graphql_schema(build_schema()), document, QueryLimits(), {}))

    # then
    assert refusals == []


def readme_documents() -> list[str]:
    return re.findall(r"```graphql\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)


async def test_every_readme_example_passes_the_default_limits(client):
    # given
    documents = readme_documents()
    assert len(documents) >= 4

    for document in documents:
        # when
        response = await post(client, document)

        # then: mutations are refused for want of a token, never for a limit
        codes = {e.get("extensions", {}).get("code") for e in response.json().get("errors", [])}
        assert not codes & LIMIT_REFUSALS, (document, response.json())


def test_the_schemas_defaults_are_the_settings_defaults():
    defaults = {name: field.default for name, field in Settings.model_fields.items()}
    assert QueryLimits(**{name: defaults[name] for name in vars(QueryLimits())}) == QueryLimits()


# -- introspection --------------------------------------------------------------------------


async def test_introspection_is_on_by_default(client):
    # when
    response = await post(client, INTROSPECTION)

    # then
    assert response.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


@pytest.mark.parametrize("document", [INTROSPECTION, TYPE_INTROSPECTION])
async def test_introspection_can_be_turned_off(app_client, document):
    # given
    client = await app_client(introspection=False)

    # when
    response = await post(client, document)

    # then
    message = "Introspection is disabled on this server"
    expected = {
        "data": None,
        "errors": [
            {
                "message": message,
                "locations": [{"line": 1, "column": 3}],
                "extensions": {"code": "INTROSPECTION_DISABLED"},
            }
        ],
    }
    await assert_refused_then_recovers(client, response, expected)


async def test_typename_still_works_without_introspection(app_client):
    # given
    client = await app_client(introspection=False)

    # when
    response = await post(client, TYPENAME)

    # then
    assert response.json() == {
        "data": {"__typename": "Query", "articles": {"__typename": "ArticleConnection"}}
    }


MISSPELLED_INPUT_FIELD = "{ articles(filter: { languag: EN }) { totalCount } }"
FILTER_BY_VARIABLE = "query Q($f: ArticleFilter) { articles(filter: $f) { totalCount } }"
UNKNOWN_FIELD = "Expected value of type 'ArticleFilter' not to include unknown field 'languag'."
# (document, variables, the message while introspection is on, the message while it is off)
MISSPELLINGS = {
    "field": (
        MISSPELLED_FIELD,
        {},
        "Cannot query field 'articls' on type 'Query'. Did you mean 'article' or 'articles'?",
        "Cannot query field 'articls' on type 'Query'.",
    ),
    "argument": (
        MISSPELLED_ARGUMENT,
        {},
        "Unknown argument 'frist' on field 'Query.articles'. Did you mean 'first' or 'last'?",
        "Unknown argument 'frist' on field 'Query.articles'.",
    ),
    "type": (
        MISSPELLED_TYPE,
        {},
        "Unknown type 'ArticleFiltr'. Did you mean 'ArticleFilter', 'ArticleOrder', "
        "'Article', 'ArticleEdge', or 'ArticleStatus'?",
        "Unknown type 'ArticleFiltr'.",
    ),
    "input field": (
        MISSPELLED_INPUT_FIELD,
        {},
        f"{UNKNOWN_FIELD} Did you mean 'language'? Found: {{ languag: EN }}.",
        f"{UNKNOWN_FIELD} Found: {{ languag: EN }}.",
    ),
    "input field in a variable": (
        FILTER_BY_VARIABLE,
        {"f": {"languag": "EN"}},
        f"Variable '$f' has invalid value: {UNKNOWN_FIELD} Did you mean 'language'? "
        "Found: {'languag': 'EN'}.",
        f"Variable '$f' has invalid value: {UNKNOWN_FIELD} Found: {{'languag': 'EN'}}.",
    ),
}


@pytest.mark.parametrize("case", list(MISSPELLINGS))
async def test_suggestions_are_given_only_while_introspection_is_on(app_client, case):
    # given
    open_client = await app_client()
    closed_client = await app_client(introspection=False)
    document, variables, suggesting, plain = MISSPELLINGS[case]

    # when
    suggested = await post(open_client, document, **variables)
    response = await post(closed_client, document, **variables)

    # then
    assert [e["message"] for e in suggested.json()["errors"]] == [suggesting]
    assert [e["message"] for e in response.json()["errors"]] == [plain]
    assert "Did you mean" not in response.text
    after = await post(closed_client, NORMAL)
    assert after.json() == NORMAL_ANSWER


# -- batching -------------------------------------------------------------------------------


async def test_batches_are_refused_by_default(client):
    # when
    response = await client.post("/graphql", json=[{"query": NORMAL}, {"query": NORMAL}])

    # then
    assert response.status_code == 400
    assert [e["message"] for e in response.json()["errors"]] == ["Batching is not enabled"]
    after = await post(client, NORMAL)
    assert after.json() == NORMAL_ANSWER


async def test_batches_run_up_to_the_maximum_when_turned_on(app_client):
    # given
    client = await app_client(max_batch_size=3)
    batch = [{"query": NORMAL}, {"query": "{ tags { totalCount } }"}, {"query": DEPTH_BOMB}]

    # when
    response = await client.post("/graphql", json=batch)
    too_many = await client.post("/graphql", json=[{"query": NORMAL}] * 4)

    # then: each operation is limited on its own
    deep = refused("The query is nested 15 levels deep; at most 12 are allowed", "QUERY_TOO_DEEP")
    assert (response.status_code, response.json()) == (
        200,
        [NORMAL_ANSWER, {"data": {"tags": {"totalCount": 0}}}, deep],
    )
    assert too_many.status_code == 400
    assert [e["message"] for e in too_many.json()["errors"]] == ["Too many operations"]
    after = await post(client, NORMAL)
    assert after.json() == NORMAL_ANSWER
