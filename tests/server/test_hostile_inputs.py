"""Hostile values in every string argument, forged IDs and cursors, absurd page sizes,
script in bodies and a thousand-operation batch, over HTTP on both databases.

The string arguments and input fields are read from the schema itself, so a field added
later is swept too. Every answer must be a clear refusal or a clean answer (never a 500,
never a masked internal error), leak nothing (``tests/leaks.py``), write nothing when it
refuses, and leave the server answering an ordinary query.
"""

import base64
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from itertools import count, pairwise
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
    is_leaf_type,
)
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel, select

from models import Article, ArticleStatus, Role
from models.db import SessionMaker
from models.services.tokens import create_token
from models.services.webhooks import create_webhook
from models.viewer import Viewer
from models.webhook import WebhookDelivery
from schema.node import to_global_id
from schema.root import build_schema
from schema.strawberry_internals import graphql_schema
from server.app import create_app
from server.settings import Settings
from tests.factories import make_article, make_author, make_office, make_tag
from tests.leaks import SERVER_FAULTS, assert_nothing_leaks, error_codes, leaked
from tests.server.http_errors import http_error

pytestmark = pytest.mark.anyio

SCHEMA = graphql_schema(build_schema())
# Hundreds of requests per test: the rate limits would turn them away.
UNLIMITED = Settings(
    migrate_on_start=False,
    seed_on_start=False,
    rate_limit_per_minute=0,
    editor_rate_limit_per_minute=0,
)

NORMAL = "{ articles(first: 1) { totalCount } }"
NORMAL_ANSWER = {"data": {"articles": {"totalCount": 1}}}  # the world's one published article

# Injections are written in lower case: SQL in capitals in an answer is the server's own.
SQL_INJECTIONS = {
    "sql-quote": "' or '1'='1",
    "sql-drop": "x'); drop table article; --",
    "sql-union": '" union select secret_hash from api_token --',
    "sql-comment": "1 or 1=1 /*",
}
HOSTILE = {**SQL_INJECTIONS, "nul": "a\x00b", "lone-surrogate": "\ud800"}
NOT_UTF8 = "Request body is not valid UTF-8"
BAD_ESCAPE = "Syntax Error: Invalid Unicode escape sequence: '\\ud800'."


def b64(text: str) -> str:
    """An opaque ID or cursor made by hand: URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


MALFORMED_IDS = {
    "empty": "",
    "blank": "   ",
    "not-base64": "!!!",
    "no-number": b64("Article:"),
    "no-type": b64(":1"),
    "no-colon": b64("Article1"),
    "negative": b64("Article:-1"),
    "zero": b64("Article:0"),
    "float": b64("Article:1.5"),
    "exponent": b64("Article:1e3"),
    "hex": b64("Article:0x1"),
    "over-int64": b64("Article:99999999999999999999"),
    "unknown-type": b64("Nope:1"),
    "two-colons": b64("Article:1:2"),
    "nul-inside": b64("Article:1\x00"),
    "not-utf8": base64.urlsafe_b64encode(b"Article:\xff").decode().rstrip("="),
    "long": "A" * 20_000,
}
MALFORMED_CURSORS = {
    "empty": "",
    "not-base64": "!!!",
    "not-json": b64("not json"),
    "json-null": b64("null"),
    "json-list": b64("[]"),
    "no-values": b64('{"o":"on"}'),
    "values-null": b64('{"o":"on","v":null}'),
    "values-object": b64('{"o":"on","v":{}}'),
    "values-wrong-types": b64('{"o":"on","v":[{},[]]}'),
    "ordering-number": b64('{"o":1,"v":["a",1]}'),
    "huge-number": b64('{"o":"on","v":["a",1e400]}'),
    "deep": b64("[" * 2000 + "]" * 2000),
    "long": "A" * 20_000,
}


# -- the schema's string arguments -----------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One string argument or input field: ``parent.field(path)``."""

    operation: str  # "query" or "mutation"
    parent: str  # the type the field is on: Query, Mutation, or a Node type
    field: str
    path: tuple[str | int, ...]  # the argument's name, then input fields and list indexes
    scalar: str  # String, ID, or a scalar sent as a string (DateTime, Date, Time)

    def __str__(self) -> str:
        return f"{self.parent}.{self.field}({'.'.join(map(str, self.path))})"


def string_paths(
    type_: GraphQLInputType, prefix: tuple[str | int, ...]
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every place a string goes inside a value of ``type_``: lists at index 0."""
    while isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    if isinstance(type_, GraphQLList):
        yield from string_paths(type_.of_type, (*prefix, 0))
    elif isinstance(type_, GraphQLInputObjectType):
        for name, field in type_.fields.items():
            yield from string_paths(field.type, (*prefix, name))
    elif isinstance(type_, GraphQLScalarType) and type_.name not in ("Int", "Float", "Boolean"):
        yield prefix, type_.name


def schema_targets() -> list[Target]:
    targets = []
    for type_name, type_ in SCHEMA.type_map.items():
        if type_name.startswith("__") or not isinstance(type_, GraphQLObjectType):
            continue
        operation = "mutation" if type_ is SCHEMA.mutation_type else "query"
        for field_name, field in type_.fields.items():
            for argument_name, argument in field.args.items():
                for path, scalar in string_paths(argument.type, (argument_name,)):
                    targets.append(Target(operation, type_name, field_name, path, scalar))
    return targets


TARGETS = schema_targets()
FIELDS = sorted({(t.parent, t.field) for t in TARGETS})


# -- a small world for the arguments to point at ----------------------------------------------


@dataclass
class World:
    article: str  # published
    draft: str
    author: str
    tag: str
    office: str
    admin: str  # an admin token's secret
    draft_pk: int
    webhook: str
    delivery: str


@pytest.fixture
async def world(sessionmaker: SessionMaker) -> World:
    author = await make_author(sessionmaker, "Zoya Hostile")
    tag = await make_tag(sessionmaker, "Harvest")
    article = await make_article(sessionmaker, authors=[author], tags=[tag])
    draft = await make_article(
        sessionmaker, status=ArticleStatus.DRAFT, authors=[author], tags=[tag]
    )
    office = await make_office(sessionmaker)
    async with sessionmaker() as session:
        _, secret = await create_token(session, name="Root", role=Role.ADMIN)
    async with sessionmaker() as session:
        await create_token(session, name="Spare", role=Role.EDITOR)
    async with sessionmaker() as session:
        webhook, _ = await create_webhook(
            session,
            viewer=Viewer(role=Role.ADMIN, token_name="Root"),
            data={"url": WEBHOOK_URL, "events": ["article.published"]},
            allow_private=False,
        )
        delivery = WebhookDelivery(webhook_id=webhook.id, event="article.published", payload={})
        session.add(delivery)
        await session.commit()
    assert draft.id is not None and webhook.id is not None and delivery.id is not None
    return World(
        article=to_global_id("Article", article.id),
        draft=to_global_id("Article", draft.id),
        author=to_global_id("Author", author.id),
        tag=to_global_id("Tag", tag.id),
        office=to_global_id("Office", office.id),
        admin=secret,
        draft_pk=draft.id,
        webhook=to_global_id("Webhook", webhook.id),
        delivery=to_global_id("WebhookDelivery", delivery.id),
    )


WEBHOOK_URL = "https://93.184.215.14/hooks/vestnik"  # a public IP literal: no DNS lookup


@pytest.fixture
async def api(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(UNLIMITED, engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


CURRENT_VERSION = object()  # the draft's version, read just before the request
_unique = count(1)


def office_input(n: int) -> dict[str, Any]:
    return {
        "name": f"Office {n}",
        "slug": f"office-x{n}",
        "description": "Reception of citizens.",
        "postalCode": "223927",
        "country": "BY",
        "region": "Minsk region",
        "locality": "Kopyl",
        "street": "Lenin square, 6",
        "email": f"office{n}@example.by",
        "website": "https://kopyl.gov.by/",
        "timezone": "Europe/Minsk",
        "phones": [{"kind": "RECEPTION", "label": "Reception", "number": "+375 17 192-82-60"}],
        "hours": [
            {
                "weekday": "MONDAY",
                "opens": "08:30:00",
                "closes": "17:30:00",
                "breaks": [{"start": "13:00:00", "end": "14:00:00", "label": "Lunch"}],
            }
        ],
        "exceptions": [
            {
                "date": "2030-01-01",
                "closed": False,
                "opens": "09:00:00",
                "closes": "12:00:00",
                "breaks": [{"start": "10:00:00", "end": "10:30:00", "label": "Tea"}],
                "note": "New Year",
            }
        ],
    }


def base_arguments(field: str, world: World, n: int) -> dict[str, Any]:
    """Arguments under which ``field`` succeeds, so a hostile value is the only thing wrong."""
    article = {
        "title": f"Story {n}",
        "slug": f"story-{n}",
        "lead": "Lead.",
        "body": "Body.",
        "sourceName": "BelTA",
        "sourceUrl": "https://www.belta.by/",
        "authorIds": [world.author],
        "tagIds": [world.tag],
    }
    author = {
        "name": f"Author {n}",
        "slug": f"author-x{n}",
        "bio": "Bio.",
        "avatarUrl": "https://example.by/a.png",
        "email": f"author{n}@example.by",
    }
    tag = {"name": f"Tag {n}", "slug": f"tag-x{n}"}
    version = {"expectedVersion": CURRENT_VERSION}
    webhook = {
        "url": WEBHOOK_URL,
        "events": ["article.published", "office.*"],
        "secret": f"secret-of-webhook-{n}",
        "description": f"Webhook {n}",
    }
    arguments: dict[str, dict[str, Any]] = {
        "createArticle": {"input": {**article, "language": "RU", "translationOf": world.article}},
        "updateArticle": {"id": world.draft, **version, "input": article},
        "publishArticle": {"id": world.draft, "at": "2030-01-01T00:00:00+00:00"},
        "unpublishArticle": {"id": world.article},
        "archiveArticle": {"id": world.draft},
        "deleteArticle": {"id": world.draft},
        "addCorrection": {"articleId": world.article, "note": f"Note {n}"},
        "restoreArticleRevision": {"id": world.draft, "revision": 1, **version},
        "createAuthor": {"input": author},
        "updateAuthor": {"id": world.author, "input": author},
        "deleteAuthor": {"id": world.author},
        "createTag": {"input": tag},
        "updateTag": {"id": world.tag, "input": tag},
        "deleteTag": {"id": world.tag},
        "createOffice": {"input": office_input(n)},
        "updateOffice": {"id": world.office, "input": office_input(n)},
        "deleteOffice": {"id": world.office},
        "createApiToken": {"name": f"Token {n}", "role": "EDITOR"},
        "revokeApiToken": {"name": "Spare"},
        "createWebhook": {"input": webhook},
        "updateWebhook": {"id": world.webhook, "input": {**webhook, "active": True}},
        "deleteWebhook": {"id": world.webhook},
        "redeliverWebhookDelivery": {"id": world.delivery},
    }
    return arguments.get(field, {})  # built afresh on every call: safe to change


def put(arguments: dict[str, Any], path: tuple[str | int, ...], value: object) -> None:
    """Set ``value`` at ``path``, making the dicts and lists on the way."""
    node: Any = arguments
    for step, following in pairwise(path):
        empty: Any = [] if isinstance(following, int) else {}
        if isinstance(step, int):
            if not node:
                node.append(empty)
            node = node[0]
        else:
            if node.get(step) is None:
                node[step] = empty
            node = node[step]
    last = path[-1]
    if isinstance(last, int):
        node[:1] = [value]
    else:
        node[last] = value


def literal(value: object, type_: Any) -> str:
    """``value`` written into the document; strings escape NUL and surrogates as ``\\uXXXX``."""
    if isinstance(type_, GraphQLNonNull):
        return literal(value, type_.of_type)
    if value is None:
        return "null"
    if isinstance(type_, GraphQLList) and isinstance(value, list):
        return "[" + ", ".join(literal(item, type_.of_type) for item in value) + "]"
    if isinstance(type_, GraphQLInputObjectType) and isinstance(value, dict):
        fields = type_.fields
        return "{" + ", ".join(f"{k}: {literal(v, fields[k].type)}" for k, v in value.items()) + "}"
    if isinstance(type_, GraphQLEnumType):
        return str(value)
    return json.dumps(value)


def selection(type_: Any) -> str:
    """Enough of a result to make its resolvers run: ids, counts, a payload's errors."""
    named = get_named_type(type_)
    if is_leaf_type(named):
        return ""
    fields = named.fields
    parts = ["__typename"]
    if "id" in fields:
        parts.append("id")
    if "totalCount" in fields:
        parts.append("totalCount nodes { __typename }")
    if "errors" in fields:
        parts.append("errors { field message code }")
    return " { " + " ".join(parts) + " }"


NESTED_PARENTS = {"Author": "author", "Tag": "tag", "Office": "office"}


def request_for(
    target_parent: str,
    field_name: str,
    arguments: dict[str, Any],
    world: World,
    *,
    inline: bool,
) -> tuple[str, dict[str, Any]]:
    """A document calling ``parent.field`` with ``arguments``, as variables or inline."""
    if target_parent == "Mutation":
        operation, parent_type = "mutation", SCHEMA.mutation_type
    elif target_parent == "Query":
        operation, parent_type = "query", SCHEMA.query_type
    else:
        operation, parent_type = "query", SCHEMA.type_map[target_parent]
    assert parent_type is not None
    field = parent_type.fields[field_name]
    variables: dict[str, Any] = {}
    definitions, passed = [], []
    for name, value in arguments.items():
        argument_type = field.args[name].type
        if inline:
            passed.append(f"{name}: {literal(value, argument_type)}")
        else:
            definitions.append(f"${name}: {argument_type}")
            passed.append(f"{name}: ${name}")
            variables[name] = value
    call = field_name + (f"({', '.join(passed)})" if passed else "") + selection(field.type)
    if target_parent in NESTED_PARENTS:
        definitions.append("$parent: ID!")
        variables["parent"] = getattr(world, NESTED_PARENTS[target_parent])
        call = f"node(id: $parent) {{ ... on {target_parent} {{ {call} }} }}"
    header = f"{operation} Hostile({', '.join(definitions)})" if definitions else operation
    return f"{header} {{ {call} }}", variables


async def send(
    client: httpx.AsyncClient,
    document: str,
    variables: dict[str, Any] | None = None,
    token: str | None = None,
) -> httpx.Response:
    """POST as JSON written by ``json.dumps``: a lone surrogate goes out as ``\\ud800``."""
    headers = {"content-type": "application/json"}
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    body = json.dumps({"query": document, "variables": variables or None})
    return await client.post("/graphql", content=body.encode(), headers=headers)


async def row_counts(engine: AsyncEngine) -> dict[str, int]:
    """Rows in every table, in one statement."""
    counts = [
        sa.select(sa.func.count()).select_from(table).scalar_subquery().label(table.name)
        for table in SQLModel.metadata.sorted_tables
    ]
    async with engine.connect() as connection:
        return dict((await connection.execute(sa.select(*counts))).one()._mapping)


async def draft_version(sessionmaker: SessionMaker, pk: int) -> int:
    async with sessionmaker() as session:
        version = (await session.exec(select(Article.version).where(Article.id == pk))).first()
    return version or 1


async def resolve(arguments: Any, sessionmaker: SessionMaker, world: World) -> Any:
    if arguments is CURRENT_VERSION:
        return await draft_version(sessionmaker, world.draft_pk)
    if isinstance(arguments, dict):
        return {k: await resolve(v, sessionmaker, world) for k, v in arguments.items()}
    return arguments


def refused(body: dict[str, Any], field: str) -> bool:
    """The mutation did not happen: no payload, or a payload with errors."""
    data = body.get("data")
    if not isinstance(data, dict) or data.get(field) is None:
        return True
    return bool(data[field].get("errors"))


def problems_with(response: httpx.Response) -> list[str]:
    """What is wrong with an answer to a hostile request, if anything."""
    problems = []
    if response.status_code not in (200, 400):
        problems.append(f"status {response.status_code}")
    if found := leaked(response.text):
        problems.append(f"leaked {found}")
    try:
        body = response.json()
    except ValueError:
        return [*problems, "not JSON"]
    if faults := SERVER_FAULTS & set(error_codes(body)):
        problems.append(f"server fault {sorted(faults)}")
    return problems


async def assert_answers_normally(client: httpx.AsyncClient) -> None:
    after = await send(client, NORMAL)
    assert (after.status_code, after.json()) == (200, NORMAL_ANSWER)


def describe(target: str, case: str, response: httpx.Response, problem: str) -> str:
    return f"{target} [{case}]: {problem}: {response.status_code} {response.text[:400]}"


# -- hostile strings in every argument -----------------------------------------------------------


@pytest.mark.parametrize(("parent", "field"), FIELDS, ids=[f"{p}.{f}" for p, f in FIELDS])
async def test_hostile_strings_in_every_argument_are_refused_cleanly(
    api, engine, sessionmaker, world, parent, field
):
    """SQL, NUL and a lone surrogate, as variables and written into the document."""
    failures: list[str] = []
    tokens = [world.admin] if parent == "Mutation" else [None, world.admin]
    for target in (t for t in TARGETS if (t.parent, t.field) == (parent, field)):
        for name, value in HOSTILE.items():
            for inline in (False, True):
                for token in tokens:
                    # given
                    arguments = base_arguments(field, world, next(_unique))
                    put(arguments, target.path, value)
                    arguments = await resolve(arguments, sessionmaker, world)
                    document, variables = request_for(
                        parent, field, arguments, world, inline=inline
                    )
                    before = await row_counts(engine) if parent == "Mutation" else None

                    # when
                    response = await send(api, document, variables, token)

                    # then
                    case = f"{name}, {'inline' if inline else 'variables'}, {token and 'admin'}"
                    problems = problems_with(response)
                    body = response.json() if not problems else {}
                    if name == "lone-surrogate" and not inline:
                        expected = http_error(response, NOT_UTF8, "BAD_REQUEST")
                        if (response.status_code, body) != (400, expected):
                            problems.append("not the 400 for bad UTF-8")
                    elif name == "lone-surrogate":
                        messages = [e.get("message") for e in body.get("errors", [])]
                        if (response.status_code, messages) != (200, [BAD_ESCAPE]):
                            problems.append("not the syntax error for a bad escape")
                    elif response.status_code != 200:
                        problems.append("a GraphQL request's refusal should be a 200")
                    if parent == "Mutation" and body:
                        if name == "nul" and not refused(body, field):
                            problems.append("a NUL was accepted")
                        if refused(body, field) and await row_counts(engine) != before:
                            problems.append("a refused mutation wrote rows")
                    failures += [describe(str(target), case, response, p) for p in problems]
    assert not failures, "\n".join(failures)
    await assert_answers_normally(api)


@pytest.mark.parametrize("field", sorted({f for p, f in FIELDS if p == "Mutation"}))
async def test_the_sweeps_base_arguments_are_accepted(api, sessionmaker, world, field):
    """Without the hostile value each mutation succeeds: the sweep reaches every field."""
    # given
    arguments = await resolve(base_arguments(field, world, next(_unique)), sessionmaker, world)
    document, variables = request_for("Mutation", field, arguments, world, inline=False)

    # when
    response = await send(api, document, variables, world.admin)

    # then
    assert response.json()["data"][field]["errors"] == [], response.text


def test_the_sweep_covers_every_string_argument_of_the_schema():
    # then: a few of each kind, found through lists and nested inputs
    found = {str(target) for target in TARGETS}
    assert {
        "Query.node(id)",
        "Query.nodes(ids.0)",
        "Query.articles(filter.tag)",
        "Query.articles(search)",
        "Author.articles(after)",
        "Office.isOpen(at)",
        "Mutation.createArticle(input.authorIds.0)",
        "Mutation.createOffice(input.hours.0.breaks.0.label)",
        "Mutation.updateOffice(input.exceptions.0.note)",
        "Mutation.revokeApiToken(name)",
    } <= found
    assert len(found) == len(TARGETS) > 100


# -- forged IDs and cursors -------------------------------------------------------------------


ID_TARGETS = [t for t in TARGETS if t.scalar == "ID"]
CURSOR_TARGETS = [t for t in TARGETS if t.path in (("after",), ("before",))]


@pytest.mark.parametrize(
    ("targets", "values"),
    [
        pytest.param(ID_TARGETS, MALFORMED_IDS, id="ids"),
        pytest.param(CURSOR_TARGETS, MALFORMED_CURSORS, id="cursors"),
    ],
)
async def test_forged_ids_and_cursors_are_the_clients_errors(
    api, engine, sessionmaker, world, targets, values
):
    failures: list[str] = []
    for target in targets:
        for name, value in values.items():
            # given
            arguments = base_arguments(target.field, world, next(_unique))
            put(arguments, target.path, value)
            arguments = await resolve(arguments, sessionmaker, world)
            document, variables = request_for(
                target.parent, target.field, arguments, world, inline=False
            )
            mutation = target.parent == "Mutation"
            before = await row_counts(engine) if mutation else None

            # when
            response = await send(api, document, variables, world.admin)

            # then: an answer (null: no such object) or the client's error, never the server's
            problems = problems_with(response)
            body = response.json() if not problems else {}
            if response.status_code != 200:
                problems.append("not a 200")
            codes = set(error_codes(body)) - {None}
            if not codes <= {"BAD_USER_INPUT"}:
                problems.append(f"codes {sorted(map(str, codes))}")
            if mutation and body:
                if not refused(body, target.field):
                    problems.append("a forged value was accepted")
                elif await row_counts(engine) != before:
                    problems.append("a refused mutation wrote rows")
            failures += [describe(str(target), name, response, p) for p in problems]
    assert not failures, "\n".join(failures)
    await assert_answers_normally(api)


# -- page sizes ---------------------------------------------------------------------------------


def connection_fields() -> list[tuple[str, str, str]]:
    """(parent type, field, size argument) for every paginated field."""
    found = []
    for type_name, type_ in SCHEMA.type_map.items():
        if isinstance(type_, GraphQLObjectType) and not type_name.startswith("__"):
            for field_name, field in type_.fields.items():
                found += [(type_name, field_name, a) for a in ("first", "last") if a in field.args]
    return found


CONNECTIONS = connection_fields()
OUT_OF_RANGE = (-1, -5, 101, 1000)
INT_OVERFLOW = 2147483648


def page_request(
    parent: str, field: str, size: str, world: World, *variables: str
) -> tuple[str, dict[str, Any]]:
    """A document reading one page of ``parent.field``: ``size`` is e.g. ``first: -1``."""
    call = f"{field}({size}) {{ totalCount }}"
    definitions = list(variables)
    values: dict[str, Any] = {}
    if parent != "Query":
        definitions.append("$parent: ID!")
        values["parent"] = getattr(world, NESTED_PARENTS[parent])
        call = f"node(id: $parent) {{ ... on {parent} {{ {call} }} }}"
    header = f"query Page({', '.join(definitions)})" if definitions else "query Page"
    return f"{header} {{ {call} }}", values


@pytest.mark.parametrize(
    ("parent", "field", "argument"), CONNECTIONS, ids=[f"{p}.{f}.{a}" for p, f, a in CONNECTIONS]
)
@pytest.mark.parametrize("size", OUT_OF_RANGE)
async def test_page_sizes_out_of_range_are_refused(api, world, parent, field, argument, size):
    # given
    document, variables = page_request(parent, field, f"{argument}: {size}", world)

    # when
    response = await send(api, document, variables, world.admin)

    # then
    path = [field] if parent == "Query" else ["node", field]
    column = document.index(f"{field}(") + 1
    assert (response.status_code, response.json()) == (
        200,
        {
            "data": None if parent == "Query" else {"node": None},
            "errors": [
                {
                    "message": f"{argument} must be between 0 and 100",
                    "locations": [{"line": 1, "column": column}],
                    "path": path,
                    "extensions": {"code": "BAD_USER_INPUT", "field": argument},
                }
            ],
        },
    )
    assert_nothing_leaks(response)
    await assert_answers_normally(api)


@pytest.mark.parametrize(
    ("parent", "field", "argument"), CONNECTIONS, ids=[f"{p}.{f}.{a}" for p, f, a in CONNECTIONS]
)
async def test_a_page_size_past_32_bits_is_a_graphql_error(api, world, parent, field, argument):
    # given: once written into the document, once as a variable
    written, variables = page_request(parent, field, f"{argument}: {INT_OVERFLOW}", world)
    by_variable, _ = page_request(parent, field, f"{argument}: $size", world, "$size: Int")

    # when
    inline = await send(api, written, variables, world.admin)
    passed = await send(api, by_variable, variables | {"size": INT_OVERFLOW}, world.admin)

    # then
    overflow = f"Int cannot represent non 32-bit signed integer value: {INT_OVERFLOW}"
    column = written.index(str(INT_OVERFLOW)) + 1
    assert (inline.status_code, inline.json()) == (
        200,
        {
            "data": None,
            "errors": [{"message": overflow, "locations": [{"line": 1, "column": column}]}],
        },
    )
    assert (passed.status_code, passed.json()) == (
        200,
        {
            "data": None,
            "errors": [
                {
                    "message": f"Variable '$size' has invalid value: {overflow}",
                    "locations": [{"line": 1, "column": by_variable.index("$size") + 1}],
                }
            ],
        },
    )
    assert_nothing_leaks(inline)
    assert_nothing_leaks(passed)
    await assert_answers_normally(api)


# -- script in bodies ---------------------------------------------------------------------------


SCRIPTS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "![x](javascript:alert(1))",
    "<iframe src=//evil.example></iframe>",
    "<object data=//evil.example></object>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<math><mi xlink:href=javascript:alert(1)>x</mi></math>",
    "```\n</code><script>alert(1)</script>\n```",
    "<!--><script>alert(1)</script>-->",
    "<body onload=alert(1)>",
    '<form action="javascript:alert(1)"><button>x</button></form>',
]
DANGEROUS_TAGS = {"script", "iframe", "object", "embed", "svg", "math", "style", "form", "body"}


class DangerFinder(HTMLParser):
    """Tags, handlers and script URLs a browser would act on."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DANGEROUS_TAGS:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            compact = "".join((value or "").split()).lower()
            if name.startswith("on") or name == "style" or "javascript:" in compact:
                self.found.append(f"<{tag} {name}={value!r}>")


def dangers(html: str) -> list[str]:
    finder = DangerFinder()
    finder.feed(html)
    finder.close()
    return finder.found


CREATE_WITH_BODY = """
mutation Create($input: CreateArticleInput!) {
  createArticle(input: $input) { article { id bodyHtml } errors { code } }
}
"""
UPDATE_BODY = """
mutation Update($id: ID!, $input: UpdateArticleInput!) {
  updateArticle(id: $id, expectedVersion: 1, input: $input) { article { bodyHtml } errors { code } }
}
"""
PUBLISH = "mutation Publish($id: ID!) { publishArticle(id: $id) { errors { code } } }"
PUBLIC_BODY = "query Read($id: ID!) { node(id: $id) { ... on Article { bodyHtml } } }"


@pytest.mark.parametrize("script", SCRIPTS)
async def test_script_in_a_body_never_comes_back_in_body_html(api, world, script):
    # given
    body = f"Harvest news.\n\n{script}\n\nThe end."
    create = {"title": "Harvest", "lead": "Lead.", "body": body, "language": "EN"}

    # when: written, rewritten, published and read by the public
    created = (await send(api, CREATE_WITH_BODY, {"input": create}, world.admin)).json()
    article = created["data"]["createArticle"]["article"]
    updated = await send(
        api, UPDATE_BODY, {"id": article["id"], "input": {"body": body + " "}}, world.admin
    )
    await send(api, PUBLISH, {"id": article["id"]}, world.admin)
    public = await send(api, PUBLIC_BODY, {"id": article["id"]})

    # then
    renderings = [
        article["bodyHtml"],
        updated.json()["data"]["updateArticle"]["article"]["bodyHtml"],
        public.json()["data"]["node"]["bodyHtml"],
    ]
    for html in renderings:
        assert "Harvest news." in html
        assert dangers(html) == [], html
        assert "<script" not in html.lower()


def test_the_danger_finder_finds_what_a_browser_would_run():
    assert dangers('<p>ok <a href="https://x.by">x</a> &lt;script&gt;</p>') == []
    assert dangers("<script>alert(1)</script>") == ["<script>"]
    assert dangers('<a href=" java\tscript:alert(1)">x</a>') != []
    assert dangers("<img src=x onerror=alert(1)>") != []


# -- SQL is data --------------------------------------------------------------------------------


CREATE_TAG = """
mutation Create($name: String!) {
  createTag(input: { name: $name }) { tag { id name } errors { code } }
}
"""
TAGS = "{ tags(first: 100) { nodes { name } } }"
SEARCH = (
    "query Search($q: String!) { articles(search: $q, filter: { status: DRAFT }) { totalCount } }"
)


@pytest.mark.parametrize("injection", list(SQL_INJECTIONS.values()), ids=list(SQL_INJECTIONS))
async def test_sql_in_a_value_is_stored_and_found_as_written(api, engine, world, injection):
    # given
    tables_before = set(await row_counts(engine))

    # when
    created = await send(api, CREATE_TAG, {"name": injection}, world.admin)
    listed = await send(api, TAGS)
    searched = await send(api, SEARCH, {"q": injection}, world.admin)

    # then: the value round-trips verbatim, no table went anywhere, no article matches it
    assert created.json()["data"]["createTag"]["tag"]["name"] == injection
    assert injection in [node["name"] for node in listed.json()["data"]["tags"]["nodes"]]
    assert searched.json() == {"data": {"articles": {"totalCount": 0}}}
    assert set(await row_counts(engine)) == tables_before
    await assert_answers_normally(api)


# -- batches ------------------------------------------------------------------------------------


THOUSAND_WRITES = [
    {"query": 'mutation { createTag(input: { name: "Batched" }) { tag { id } } }'}
] * 1000


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        pytest.param({}, "Batching is not enabled", id="batching-off"),
        pytest.param({"max_batch_size": 10}, "Too many operations", id="over-the-maximum"),
    ],
)
async def test_a_batch_of_a_thousand_operations_is_refused_at_once(
    engine, sessionmaker, world, settings, message
):
    # given
    app = create_app(UNLIMITED.model_copy(update=settings), engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        before = await row_counts(engine)
        headers = {"authorization": f"Bearer {world.admin}"}

        # when
        started = time.perf_counter()
        response = await client.post("/graphql", json=THOUSAND_WRITES, headers=headers)
        elapsed = time.perf_counter() - started

        # then: refused before any operation ran
        assert response.status_code == 400
        assert response.json() == http_error(response, message, "BAD_REQUEST")
        assert_nothing_leaks(response)
        assert await row_counts(engine) == before
        assert elapsed < 2, f"a refusal took {elapsed:.2f} s"
        await assert_answers_normally(client)
