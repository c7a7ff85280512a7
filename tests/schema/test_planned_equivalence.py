"""Random read documents over offices, authors, tags and articles: the plan answers what
graphql-core answers, byte for byte, as the public and as an editor, on both databases.

Selections are drawn from the schema's own types (every field, nested objects, connections
such as an author's or tag's articles, ``node`` with fragments on its types and on
``Node``), with aliases, ``@skip``/``@include``
on literals and on variables, and ``at`` written out or in a variable. Where the plan
declines a document (a field it does not cover), both answers still come from graphql-core
and must agree all the same; ``test_most_documents_are_planned`` keeps the draw honest.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from graphql import (
    GraphQLInterfaceType,
    GraphQLObjectType,
    get_named_type,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from models.article import ArticleStatus
from models.db import SessionMaker
from models.services.seed import load_seed
from models.viewer import ANONYMOUS, Role, Viewer
from schema.context import Context
from schema.limits import QueryLimits
from schema.node import to_global_id
from schema.root import build_schema
from schema.strawberry_internals import graphql_schema
from tests.budgets import examples
from tests.factories import make_article, make_author, make_office, make_tag

pytestmark = pytest.mark.anyio

STRAWBERRY = build_schema(QueryLimits())
SCHEMA = graphql_schema(STRAWBERRY)
NOW = datetime(2024, 1, 10, 8, 0, tzinfo=UTC)
EDITOR = Viewer(Role.EDITOR, "desk")
MAX_DEPTH = 3
INSTANTS = ["2024-03-08T10:00:00+03:00", "2024-01-10T13:30:00+03:00", "2024-01-13T09:00:00Z"]
# Pages of articles in an object: their size.
PAGE_SIZES = ["", "(first: 1)", "(first: 3)"]
ROOTS = {
    "article": '(slug: "navina-2")',
    "articles": "(first: 4)",
    "office": '(slug: "kopyl-district-executive-committee")',
    "offices": "(first: 3)",
    "author": '(slug: "iryna")',
    "authors": "",
    "tag": '(slug: "sport")',
    "tags": "(last: 2)",
}


class Document:
    """One random read document: its text and variables."""

    def __init__(self, draw: st.DrawFn) -> None:
        self.draw = draw
        self.variables: dict[str, Any] = {}
        self.definitions: list[str] = []

    def variable(self, type_name: str, value: Any) -> str:
        name = f"v{len(self.variables)}"
        self.definitions.append(f"${name}: {type_name}")
        self.variables[name] = value
        return f"${name}"

    def condition(self) -> str:
        if self.draw(st.integers(0, 5)):
            return ""
        directive = self.draw(st.sampled_from(["skip", "include"]))
        value = self.draw(st.booleans())
        written = (
            self.variable("Boolean!", value)
            if self.draw(st.booleans())
            else ("true" if value else "false")
        )
        return f" @{directive}(if: {written})"

    def selection(self, type_: Any, depth: int) -> str:
        named = get_named_type(type_)
        if not isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            return ""
        fields = list(named.fields.items())
        parts = []
        for _ in range(self.draw(st.integers(1, 4))):
            if depth >= MAX_DEPTH or self.draw(st.integers(0, 14)) == 0:
                parts.append("__typename")
            else:
                parts.append(self.field(*self.draw(st.sampled_from(fields)), depth))
        if isinstance(named, GraphQLInterfaceType):
            for possible in ("Office", "Author", "Tag", "Article"):
                if self.draw(st.booleans()):
                    inner = self.selection(SCHEMA.get_type(possible), depth + 1)
                    parts.append(f"... on {possible}{self.condition()}{inner}")
        elif self.draw(st.integers(0, 5)) == 0:
            on = self.draw(st.sampled_from([named.name, "Node"]))
            if on == named.name or "Node" in [i.name for i in named.interfaces]:
                parts.append(f"... on {on}{self.condition()} {{ __typename }}")
        return " { " + " ".join(parts) + " }"

    def field(self, name: str, field: Any, depth: int) -> str:
        alias = (
            f"a{self.draw(st.integers(0, 3))}{name}: " if self.draw(st.integers(0, 4)) == 0 else ""
        )
        arguments = ""
        if "at" in field.args and self.draw(st.booleans()):
            at = self.draw(st.sampled_from(INSTANTS))
            written = self.variable("DateTime", at) if self.draw(st.booleans()) else f'"{at}"'
            arguments = f"(at: {written})"
        elif "first" in field.args:
            arguments = self.draw(st.sampled_from(PAGE_SIZES))
        return f"{alias}{name}{arguments}{self.condition()}{self.selection(field.type, depth + 1)}"


@st.composite
def documents(draw: st.DrawFn, ids: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
    document = Document(draw)
    query = SCHEMA.query_type
    assert query is not None
    calls = []
    for _ in range(draw(st.integers(1, 2))):
        root = draw(st.sampled_from([*ROOTS, "node"]))
        arguments = f'(id: "{draw(st.sampled_from(ids))}")' if root == "node" else ROOTS[root]
        calls.append(f"{root}{arguments}{document.selection(query.fields[root].type, 0)}")
    header = f"query Q({', '.join(document.definitions)})" if document.definitions else "query Q"
    return f"{header} {{ {' '.join(calls)} }}", document.variables


IDS = tuple(to_global_id(name, 1) for name in ("Office", "Author", "Tag", "Article"))


@pytest.fixture
async def catalog(sessionmaker: SessionMaker) -> SessionMaker:
    """The seed's office (ids start at 1: the database is new), authors, tags, offices and
    articles (a draft among them)."""
    async with sessionmaker() as session:
        await load_seed(session)
    iryna = await make_author(sessionmaker, "Ірына", slug="iryna", avatar_url="/i.jpg")
    andrei = await make_author(sessionmaker, "Андрэй", slug="andrei", email=None)
    tags = [
        await make_tag(sessionmaker, name, slug=slug)
        for name, slug in (("Спорт", "sport"), ("Culture", "culture"))
    ]
    await make_office(sessionmaker, name="Другі офіс")
    for n in range(5):
        await make_article(
            sessionmaker,
            f"Навіна {n}",
            slug=f"navina-{n}",
            published_at=NOW - timedelta(hours=n // 2),  # two at each instant: ties
            authors=[iryna, andrei][n % 2 :][: 1 + n % 3],
            tags=tags[: n % 3],
            body="Слова " * (n * 120),
            source_name="BelTA" if n % 2 else None,
        )
    await make_article(sessionmaker, "Draft", status=ArticleStatus.DRAFT, authors=[iryna])
    return sessionmaker


async def answer(
    sessionmaker: SessionMaker, query: str, variables: dict[str, Any], planned: bool, viewer: Viewer
) -> tuple[bytes, bool]:
    context = Context(sessionmaker=sessionmaker, now=NOW, planned=planned, viewer=viewer)
    result = await STRAWBERRY.execute(query, variable_values=variables, context_value=context)
    errors = [error.formatted for error in result.errors or ()]
    return orjson.dumps({"data": result.data, "errors": errors}), context.answered_by_plan


SEEN = {"planned": 0, "all": 0, "with articles": 0}


@settings(max_examples=examples("planned equivalence"))
@given(document=documents(IDS), editor=st.booleans())
async def test_planned_answers_are_graphql_cores(catalog, document, editor) -> None:
    query, variables = document
    viewer = EDITOR if editor else ANONYMOUS
    regular, _ = await answer(catalog, query, variables, False, viewer)
    planned, by_plan = await answer(catalog, query, variables, True, viewer)
    assert planned.decode() == regular.decode(), query
    SEEN["all"] += 1
    SEEN["planned"] += by_plan
    SEEN["with articles"] += by_plan and "articles" in query


def test_most_documents_are_planned() -> None:
    # Runs after the draw above (file order): were the plans exercised at all?
    if SEEN["all"] == 0:
        pytest.skip("the equivalence test did not run")
    assert SEEN["planned"] >= SEEN["all"] // 3, SEEN
    assert SEEN["with articles"] >= SEEN["all"] // 10, SEEN
