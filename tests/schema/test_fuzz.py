"""Random operations over the whole schema, as the public and as an editor.

Documents are built from the schema's own types: random fields up to a small depth,
random aliases, arguments of the right type and of the wrong one (hostile strings
included), written inline or passed as variables, and now and then a document cut short.
Whatever comes in, the answer is JSON in GraphQL-over-HTTP's shape, never a server fault,
leaks nothing, and never shows the public what is not published.

On both databases: 1,500 anonymous and 500 editor operations each, about 20 s per
database. The app runs without rate limits (they would trip), and every example shares
one database, so the editor's successful mutations pile up as a real desk's would.
"""

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLUnionType,
    get_named_type,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from models import ArticleStatus, Role
from models.columns import utcnow
from models.db import SessionMaker
from models.services.tokens import create_token
from schema.node import to_global_id
from schema.root import build_schema
from schema.strawberry_internals import graphql_schema
from server.app import create_app
from server.settings import Settings
from tests.budgets import examples
from tests.factories import make_article, make_author, make_office, make_tag
from tests.leaks import SERVER_FAULTS, error_codes, leaked

pytestmark = pytest.mark.anyio

SCHEMA = graphql_schema(build_schema())
MAX_DEPTH = 3

# Private content: none of it may reach an anonymous caller. Capitals and words the
# fuzzer's own strings cannot spell, so an answer quoting a request back is no false alarm.
DRAFT_TITLE = "Quaggaflux Draft Title"
DRAFT_BODY = "Quaggaflux Draft Body"
SCHEDULED_TITLE = "Quaggaflux Scheduled Title"
ARCHIVED_TITLE = "Quaggaflux Archived Title"
PRIVATE_EMAIL = "quaggaflux.private@example.by"  # a dot: random text has none
ADMIN_TOKEN_NAME = "Quaggaflux Root"
ANONYMOUS_SECRETS = (DRAFT_TITLE, DRAFT_BODY, SCHEDULED_TITLE, ARCHIVED_TITLE, PRIVATE_EMAIL)

HOSTILE_STRINGS = [
    "",
    " ",
    "' or '1'='1",
    "x'); drop table article; --",
    '" union select secret_hash from api_token --',
    "a\x00b",
    "\ud800",
    "\ufeff",
    "<script>alert(1)</script>",
    "%",
    "_",
    "\\",
    "${jndi:ldap://x}",
    "a" * 5000,
    "😀" * 50,
]
# No capitals, dots or slashes: random text cannot spell a leak marker or a secret.
SAFE_ALPHABET = st.characters(
    exclude_categories=("Lu", "Cs"), exclude_characters="./", max_codepoint=0x2FFF
)
WRONG_VALUES = [0, -1, 1.5, True, None, "x", [], {}, [[1]], {"id": "x"}, 2**31, -(2**63)]
DATETIMES = ["2024-01-01T10:00:00+03:00", "2024-01-01T10:00:00", "2024-13-45T99:00", "now"]
DATES = ["2030-01-01", "2030-02-30", "1-1-1", ""]
TIMES = ["08:30:00", "24:00", "13:00:00+03:00", "noon"]


# The world's objects, known before it exists (the database starts empty every time), so
# that operations are drawn by ``@given`` itself, outside the event loop.
KNOWN_IDS = [
    *(to_global_id("Article", pk) for pk in (1, 2, 3, 4)),
    to_global_id("Author", 1),
    to_global_id("Tag", 1),
    to_global_id("Office", 1),
]
KNOWN_SLUGS = ["published", "draft", "scheduled", "archived", "zoya", "harvest", "town-hall"]


@dataclass
class World:
    editor: str
    editor_hash: str


@pytest.fixture
async def world(sessionmaker: SessionMaker) -> World:
    """Public content, and hidden content whose text must never reach the public."""
    author = await make_author(sessionmaker, "Zoya Kovaleva", slug="zoya", email=PRIVATE_EMAIL)
    tag = await make_tag(sessionmaker, "Harvest", slug="harvest")
    office = await make_office(sessionmaker, slug="town-hall")
    articles = [
        await make_article(sessionmaker, slug="published", authors=[author], tags=[tag]),
        await make_article(
            sessionmaker, DRAFT_TITLE, slug="draft", status=ArticleStatus.DRAFT,
            body=DRAFT_BODY, authors=[author], tags=[tag],
        ),
        await make_article(
            sessionmaker, SCHEDULED_TITLE, slug="scheduled",
            published_at=utcnow().replace(year=2100), authors=[author], tags=[tag],
        ),
        await make_article(
            sessionmaker, ARCHIVED_TITLE, slug="archived", status=ArticleStatus.ARCHIVED,
            authors=[author], tags=[tag],
        ),
    ]  # fmt: skip
    async with sessionmaker() as session:
        await create_token(session, name=ADMIN_TOKEN_NAME, role=Role.ADMIN)
    async with sessionmaker() as session:
        token, secret = await create_token(session, name="Desk", role=Role.EDITOR)
    made = [
        *(to_global_id("Article", a.id) for a in articles),
        to_global_id("Author", author.id),
        to_global_id("Tag", tag.id),
        to_global_id("Office", office.id),
    ]
    assert made == KNOWN_IDS
    return World(editor=secret, editor_hash=token.secret_hash)


@pytest.fixture
async def api(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        rate_limit_per_minute=0,
        editor_rate_limit_per_minute=0,
        migrate_on_start=False,
        seed_on_start=False,
    )
    transport = httpx.ASGITransport(app=create_app(settings, engine=engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


# -- documents built from the schema ----------------------------------------------------------


def names() -> st.SearchStrategy[str]:
    return st.from_regex(r"[a-z][a-zA-Z0-9_]{0,6}", fullmatch=True)


class Builder:
    """One random document: its text and its variables, drawn field by field."""

    def __init__(self, draw: st.DrawFn) -> None:
        self.draw = draw
        self.variables: dict[str, Any] = {}
        self.definitions: list[str] = []

    def string(self, scalar: str) -> object:
        options: list[st.SearchStrategy[Any]] = [
            st.sampled_from(HOSTILE_STRINGS),
            st.text(SAFE_ALPHABET, max_size=20),
        ]
        if scalar == "ID":
            options.append(st.sampled_from(KNOWN_IDS))
        elif scalar == "DateTime":
            options.append(st.sampled_from(DATETIMES))
        elif scalar == "Date":
            options.append(st.sampled_from(DATES))
        elif scalar == "Time":
            options.append(st.sampled_from(TIMES))
        else:
            options.append(st.sampled_from(KNOWN_SLUGS))
        return self.draw(st.one_of(*options))

    def value(self, type_: Any, depth: int = 0) -> object:
        """A value for ``type_``; now and then one of the wrong type."""
        if self.draw(st.integers(0, 9)) == 0:
            return self.draw(st.sampled_from([*WRONG_VALUES, *HOSTILE_STRINGS[:6]]))
        if isinstance(type_, GraphQLNonNull):
            return self.value(type_.of_type, depth)
        if self.draw(st.integers(0, 14)) == 0:
            return None
        if isinstance(type_, GraphQLList):
            if self.draw(st.booleans()):  # a single value stands for a list of one
                return self.value(type_.of_type, depth + 1)
            size = self.draw(st.integers(0, 3))
            return [self.value(type_.of_type, depth + 1) for _ in range(size)]
        if isinstance(type_, GraphQLInputObjectType):
            fields = type_.fields
            chosen = self.draw(st.lists(st.sampled_from(list(fields)), max_size=4, unique=True))
            return {name: self.value(fields[name].type, depth + 1) for name in chosen}
        if isinstance(type_, GraphQLEnumType):
            return self.draw(st.sampled_from(list(type_.values)))
        assert isinstance(type_, GraphQLScalarType)
        if type_.name == "Int":
            return self.draw(
                st.one_of(st.integers(-3, 120), st.sampled_from([2**31 - 1, -(2**31), 2**31]))
            )
        if type_.name == "Float":
            return self.draw(st.floats(allow_nan=False, allow_infinity=False))
        if type_.name == "Boolean":
            return self.draw(st.booleans())
        return self.string(type_.name)

    def literal(self, value: object, type_: Any) -> str:
        """``value`` written into the document; enum names bare, other strings quoted."""
        named = get_named_type(type_) if type_ is not None else None
        if value is None:
            return "null"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, list):
            inner = type_.of_type if isinstance(type_, GraphQLList) else None
            if isinstance(type_, GraphQLNonNull) and isinstance(type_.of_type, GraphQLList):
                inner = type_.of_type.of_type
            return "[" + ", ".join(self.literal(item, inner) for item in value) + "]"
        if isinstance(value, dict):
            fields = named.fields if isinstance(named, GraphQLInputObjectType) else {}
            return (
                "{"
                + ", ".join(
                    f"{k}: {self.literal(v, fields[k].type if k in fields else None)}"
                    for k, v in value.items()
                )
                + "}"
            )
        if isinstance(named, GraphQLEnumType) and isinstance(value, str) and value in named.values:
            return value
        return json.dumps(value)  # NUL and surrogates as \uXXXX escapes

    def argument(self, name: str, type_: Any) -> str:
        value = self.value(type_)
        if self.draw(st.booleans()):
            return f"{name}: {self.literal(value, type_)}"
        variable = f"v{len(self.variables)}"
        # Mostly the argument's own type; sometimes a looser or a wrong one.
        declared = self.draw(st.sampled_from([str(type_)] * 4 + ["String", "Int!", "[ID]"]))
        self.definitions.append(f"${variable}: {declared}")
        self.variables[variable] = value
        return f"{name}: ${variable}"

    def selection(self, type_: Any, depth: int) -> str:
        """``{ ... }`` for an object, interface or union; 1 to 4 fields, some aliased."""
        named = get_named_type(type_)
        if not isinstance(named, (GraphQLObjectType, GraphQLInterfaceType, GraphQLUnionType)):
            return ""
        parts = []
        fields = list(named.fields.items()) if not isinstance(named, GraphQLUnionType) else []
        for _ in range(self.draw(st.integers(1, 3))):
            if depth >= MAX_DEPTH or not fields or self.draw(st.integers(0, 19)) == 0:
                parts.append("__typename")
            else:
                parts.append(self.field(*self.draw(st.sampled_from(fields)), depth))
        if isinstance(named, (GraphQLInterfaceType, GraphQLUnionType)) and depth < MAX_DEPTH:
            for possible in SCHEMA.get_possible_types(named):
                if self.draw(st.booleans()):
                    parts.append(f"... on {possible.name}{self.selection(possible, depth + 1)}")
        if self.draw(st.integers(0, 39)) == 0:
            parts.append("notAField")
        return " { " + " ".join(parts) + " }"

    def field(self, name: str, field: Any, depth: int) -> str:
        alias = f"{self.draw(names())}: " if self.draw(st.integers(0, 4)) == 0 else ""
        arguments = [
            self.argument(argument_name, argument.type)
            for argument_name, argument in field.args.items()
            if isinstance(argument.type, GraphQLNonNull) or self.draw(st.booleans())
        ]
        call = f"{alias}{name}" + (f"({', '.join(arguments)})" if arguments else "")
        return call + self.selection(field.type, depth + 1)


@st.composite
def operations(draw: st.DrawFn) -> tuple[str, dict[str, Any], str]:
    """(document, variables, operation type)."""
    builder = Builder(draw)
    kind = draw(st.sampled_from(["query", "query", "query", "mutation"]))
    root = SCHEMA.query_type if kind == "query" else SCHEMA.mutation_type
    assert root is not None
    fields = list(root.fields.items())
    count = draw(st.integers(1, 2))
    calls = [builder.field(*draw(st.sampled_from(fields)), 0) for _ in range(count)]
    header = kind
    if builder.definitions:
        header += f" Fuzz({', '.join(builder.definitions)})"
    document = f"{header} {{ {' '.join(calls)} }}"
    if draw(st.integers(0, 29)) == 0:  # cut short: a syntax error
        document = document[: draw(st.integers(0, len(document)))]
    return document, builder.variables, kind


# -- what every answer must be -------------------------------------------------------------------


def shape_problems(body: object, status: int) -> list[str]:
    """Deviations from GraphQL over HTTP's response shape."""
    if not isinstance(body, dict):
        return ["the body is not a JSON object"]
    problems = []
    if not set(body) <= {"data", "errors", "extensions"}:
        problems.append(f"unexpected keys {sorted(body)}")
    if "data" not in body and not body.get("errors"):
        problems.append("neither data nor errors")
    if status == 400 and "data" in body:
        problems.append("data in a 400")
    if "data" in body and not (body["data"] is None or isinstance(body["data"], dict)):
        problems.append("data is neither null nor an object")
    errors = body.get("errors", [])
    if "errors" in body and not (isinstance(errors, list) and errors):
        problems.append("errors is not a non-empty list")
    for error in errors if isinstance(errors, list) else []:
        if not isinstance(error, dict) or not isinstance(error.get("message"), str):
            problems.append(f"an error without a message: {error!r}")
            continue
        if not set(error) <= {"message", "locations", "path", "extensions"}:
            problems.append(f"an error with keys {sorted(error)}")
        for location in error.get("locations", []):
            if set(location) != {"line", "column"} or min(location.values()) < 1:
                problems.append(f"a bad location {location!r}")
        if not all(isinstance(step, str | int) for step in error.get("path", [])):
            problems.append(f"a bad path {error.get('path')!r}")
        if not isinstance(error.get("extensions", {}), dict):
            problems.append("extensions is not an object")
    return problems


def problems_with(response: httpx.Response, forbidden: tuple[str, ...]) -> list[str]:
    # 413/415/429 cannot happen here (small JSON bodies, rate limits off); 503/504 mean the
    # server could not cope, which a single small request must never cause; 500 never.
    problems = []
    if response.status_code not in (200, 400):
        problems.append(f"status {response.status_code}")
    if response.headers.get("content-type") != "application/json":
        problems.append(f"content-type {response.headers.get('content-type')}")
    if found := leaked(response.text):
        problems.append(f"leaked {found}")
    if shown := [secret for secret in forbidden if secret in response.text]:
        problems.append(f"showed {shown}")
    try:
        body = response.json()
    except ValueError:
        return [*problems, "not JSON"]
    problems += shape_problems(body, response.status_code)
    if faults := SERVER_FAULTS & set(error_codes(body)):
        problems.append(f"server fault {sorted(faults)}")
    return problems


async def row_counts(engine: AsyncEngine) -> dict[str, int]:
    counts = [
        sa.select(sa.func.count()).select_from(table).scalar_subquery().label(table.name)
        for table in SQLModel.metadata.sorted_tables
    ]
    async with engine.connect() as connection:
        return dict((await connection.execute(sa.select(*counts))).one()._mapping)


async def fuzz_once(
    api: httpx.AsyncClient,
    engine: AsyncEngine,
    operation: tuple[str, dict[str, Any], str],
    token: str | None,
    forbidden: tuple[str, ...],
) -> None:
    # given
    document, variables, kind = operation
    headers = {"content-type": "application/json"}
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    # json.dumps, so a lone surrogate goes out as the escape \ud800 (and gets a 400)
    content = json.dumps({"query": document, "variables": variables or None}).encode()
    before = await row_counts(engine) if kind == "mutation" else None

    # when
    response = await api.post("/graphql", content=content, headers=headers)

    # then
    problems = problems_with(response, forbidden)
    if before is not None and (token is None or _refused_whole(response)):
        if await row_counts(engine) != before:
            problems.append("a refused mutation wrote rows")
    assert not problems, f"{problems}\n{document}\n{variables!r}\n{response.text[:1000]}"


def _refused_whole(response: httpx.Response) -> bool:
    """No mutation of the document happened: no data, or every field null or with errors."""
    try:
        body = response.json()
        data = body.get("data")
    except (ValueError, AttributeError):
        return True
    if not isinstance(data, dict):
        # Null data: refused before anything ran (no error has a path), or a non-null field
        # failed after earlier mutations of the document had run (they stay done).
        errors = body.get("errors")
        return (
            not any(isinstance(error, dict) and error.get("path") for error in errors or ())
            if isinstance(errors, list)
            else True
        )
    return all(
        value is None or (isinstance(value, dict) and bool(value.get("errors")))
        for value in data.values()
    )


# The same run on both databases. (PostgreSQL's once got a tenth of it: asyncpg reported
# "unexpected connection_lost()" from a background callback now and then. The cause was a
# cancelled connect, see models/pg_connect.py and tests/models/test_pg_connect.py.)


def only_on(engine: AsyncEngine, dialect: str) -> None:
    if engine.dialect.name != dialect:
        pytest.skip(f"this fuzz run is for {dialect}")


@settings(max_examples=examples("fuzz anonymous"))
@given(operation=operations())
async def test_fuzz_anonymous(api, engine, world, operation):
    only_on(engine, "sqlite")
    await fuzz_once(api, engine, operation, None, (*ANONYMOUS_SECRETS, ADMIN_TOKEN_NAME))


@settings(max_examples=examples("fuzz editor"))
@given(operation=operations())
async def test_fuzz_editor(api, engine, world, operation):
    only_on(engine, "sqlite")
    await fuzz_once(api, engine, operation, world.editor, (ADMIN_TOKEN_NAME, world.editor_hash))


@settings(max_examples=examples("fuzz anonymous"))
@given(operation=operations())
async def test_fuzz_anonymous_on_postgresql(api, engine, world, operation):
    only_on(engine, "postgresql")
    await fuzz_once(api, engine, operation, None, (*ANONYMOUS_SECRETS, ADMIN_TOKEN_NAME))


@settings(max_examples=examples("fuzz editor"))
@given(operation=operations())
async def test_fuzz_editor_on_postgresql(api, engine, world, operation):
    only_on(engine, "postgresql")
    await fuzz_once(api, engine, operation, world.editor, (ADMIN_TOKEN_NAME, world.editor_hash))
