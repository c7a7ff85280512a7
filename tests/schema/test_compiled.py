# ruff: noqa: RUF001  (Cyrillic text on purpose: its letters look like Latin ones)
"""The planner answers byte for byte what graphql-core answers, or steps aside.

``PlannedReads`` (a schema extension) answers a document from its plan, one SQL statement
per root field, when the context carries a raw reader; the contract is that whenever it
answers, the result is exactly the one graphql-core's executor gives for the same
document, variables and ``now``, and that it steps aside wherever the executor reports an
error. Every test here runs a document both ways over one data set made to catch a
divergence: bylines in position order (not by name), tags by name, articles without
either, drafts, archived and scheduled articles, a renamed slug, equal and microsecond
timestamps, three languages, Cyrillic text, null and set source fields.

The compiled path reads through asyncpg (``RawReader``), so it exists only on PostgreSQL;
on SQLite the server has no reader and always takes the regular path.
"""

import asyncio
import base64
import random
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
import strawberry
from graphql import GraphQLError, parse
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.schema.exceptions import CannotGetOperationTypeError

from models import Article, ArticleStatus, Author, Language, Role, Tag, Viewer
from models.db import SessionMaker
from models.rawdb import RawReader
from models.services.article_edits import (
    archive_article,
    publish_article,
    unpublish_article,
    update_article,
)
from models.services.articles import ArticleOrder
from models.viewer import ANONYMOUS
from schema.compiled import CompiledQueries, planner_of
from schema.context import Context
from schema.limits import QueryLimits
from schema.node import to_global_id
from schema.root import build_schema
from tests.factories import make_article, make_author, make_tag

pytestmark = pytest.mark.anyio

# One instant for both paths: what "published by now" means in every comparison.
NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)
EDITOR = Viewer(Role.EDITOR, "desk")
LIMITS = QueryLimits()
ESCAPES = 'C:\\u0041 \\ "quoted"\ttab\x01\x07\x1f\x7f\u2028\u2029 🦫 é́ \\n <b>&amp;</b>'

# --- documents ---------------------------------------------------------------------------

LIST_PAGE = """
query ListPage {
  articles(first: 20) { nodes { title slug lead publishedAt authors { name } } }
}
"""

ARTICLE_FIELDS = """
    __typename id slug title lead body bodyHtml status language publishedAt createdAt
    updatedAt version sourceName sourceUrl readingTimeMinutes
    authors { __typename id slug name bio avatarUrl }
    tags { __typename id slug name }
"""

ARTICLE_BY_SLUG = f"""
query ArticleBySlug($slug: String!, $language: Language) {{
  article(slug: $slug, language: $language) {{ {ARTICLE_FIELDS} }}
}}
"""

ARTICLE_BY_ID = f"""
query ArticleById($id: ID!) {{
  article(id: $id) {{ {ARTICLE_FIELDS} }}
}}
"""

ARTICLE_BY_SLUG_OR_ID = """
query ArticleBySlugOrId($slug: String, $id: ID) {
  article(slug: $slug, id: $id) { slug title }
}
"""

ARTICLE_WITHOUT_KEY = "query ArticleWithoutKey { article { slug } }"

SEARCH = """
query Search($search: String!) {
  articles(search: $search, first: 50) { nodes { slug title } }
}
"""

FILTERED = """
query Filtered($filter: ArticleFilter!) {
  articles(filter: $filter, first: 50) {
    nodes { slug language sourceName sourceUrl publishedAt authors { slug } tags { slug } }
  }
}
"""

FILTERED_INLINE = """
query FilteredInline {
  belta: articles(filter: {sourceName: "BelTA", language: RU}) { nodes { slug sourceName } }
  economy: articles(filter: {tag: "economy"}, orderBy: TITLE_ASC) { nodes { slug } }
  recent: articles(filter: {publishedAfter: "2024-06-01T09:00:00+03:00"}) { nodes { slug } }
}
"""

ORDERED = """
query Ordered($orderBy: ArticleOrder!) {
  articles(orderBy: $orderBy, first: 100) {
    edges { cursor node { slug title publishedAt updatedAt } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""

PAGES = """
query Pages(
  $first: Int, $after: String, $last: Int, $before: String,
  $orderBy: ArticleOrder = PUBLISHED_AT_DESC
) {
  articles(first: $first, after: $after, last: $last, before: $before, orderBy: $orderBy) {
    edges { cursor node { slug } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""

ALIASES = """
query Aliases($slug: String!) {
  latest: articles(first: 2) {
    items: nodes { headline: title title slug: slug }
    nodes { slug }
    info: pageInfo { more: hasNextPage }
  }
  oldest: articles(first: 2, orderBy: PUBLISHED_AT_ASC) { nodes { slug publishedAt } }
  one: article(slug: $slug) {
    title
    title
    t: title
    authors { name }
    authors { slug }
    byline: authors { who: name }
  }
  two: article(slug: $slug) { slug }
}
"""

FRAGMENTS = """
query Fragments($slug: String!) {
  ...Root
  article(slug: $slug) { ...Card ... on Article { body } ... { lead } }
  articles(first: 3) {
    ... on ArticleConnection { nodes { ...Card } }
    edges { ...Edge }
  }
}
fragment Root on Query { __typename }
fragment Card on Article { slug title ...Card2 authors { ...Byline } tags { ... on Tag { name } } }
fragment Card2 on Article { slug language }
fragment Byline on Author { name slug }
fragment Edge on ArticleEdge { cursor node { ...Card ...Card } }
"""

TYPENAMES = """
query Typenames($slug: String!) {
  __typename
  t: __typename
  articles(first: 2) {
    __typename
    nodes { __typename authors { __typename } tags { __typename } }
    edges { __typename node { __typename } }
    pageInfo { __typename }
  }
  article(slug: $slug) { __typename authors { __typename name } tags { __typename name slug } }
}
"""

DEFAULTS = """
query Defaults(
  $first: Int = 2, $orderBy: ArticleOrder = TITLE_ASC, $language: Language = EN,
  $slug: String = "new-slug"
) {
  articles(first: $first, orderBy: $orderBy, filter: {language: $language}) {
    nodes { slug title language }
  }
  article(slug: $slug) { slug language }
}
"""

TYPENAME_ONLY = "{ __typename }"

MERGED = """
query Merged($slug: String!) {
  article(slug: $slug) { title authors { name } }
  articles(first: 3) { nodes { slug } }
  article(slug: $slug) { slug authors { slug } tags { name } }
  articles(first: 3) { pageInfo { endCursor } nodes { title } }
  ...More
}
fragment More on Query {
  articles(first: 3) { nodes { ...Dates } pageInfo { ...Page } }
  article(slug: $slug) { ...Dates }
}
fragment Dates on Article { publishedAt updatedAt }
fragment Page on PageInfo { hasNextPage startCursor }
"""

TWO_OPERATIONS = """
query Newest { articles(first: 1) { nodes { slug } } }
query Oldest { articles(first: 1, orderBy: PUBLISHED_AT_ASC) { nodes { slug } } }
"""

PAGE_SIZE = """
query PageSize($first: Int) { articles(first: $first) { nodes { slug } } }
"""

AFTER = """
query After($after: String, $orderBy: ArticleOrder = PUBLISHED_AT_DESC) {
  articles(first: 2, after: $after, orderBy: $orderBy) { nodes { slug } }
}
"""

FIRST_500 = "query First500 { articles(first: 500) { nodes { slug } } }"
FIRST_AND_LAST = "query FirstAndLast { articles(first: 2, last: 2) { nodes { slug } } }"

# Valid, answered by the regular path without errors, but not something a plan covers.
UNPLANNABLE = {
    "corrections": "{ articles { nodes { slug corrections { note } } } }",
    "translations": "{ articles { nodes { slug translations { slug } } } }",
    "author articles": "{ articles { nodes { authors { articles { nodes { slug } } } } } }",
    "introspection": "{ __schema { queryType { name } } }",
}

# Not in a raw row: planned as objects, read as the resolvers read them.
AS_OBJECTS = {
    "totalCount": "{ articles { totalCount nodes { slug } } }",
    "jsonLd": '{ article(slug: "new-slug") { jsonLd } }',
    "author createdAt": "{ articles { nodes { authors { createdAt } } } }",
    "author email": "{ articles { nodes { authors { email } } } }",
}

# Editors only: the regular path refuses it to the public; it must never be planned.
REVISIONS = '{ article(slug: "new-slug") { revisions { version } } }'

CREATE_TAG = """
mutation CreateTag { createTag(input: {name: "Never"}) { tag { slug } errors { code } } }
"""

COSTLY = """
query Costly($first: Int!) { articles(first: $first) { nodes { slug title } } }
"""

# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture
async def reader(engine: AsyncEngine) -> AsyncIterator[RawReader]:
    """The raw reader the server uses; there is none on SQLite, so those tests skip there."""
    found = RawReader.for_engine(engine)
    if found is None:
        assert engine.dialect.name == "sqlite"
        pytest.skip("the compiled path reads through asyncpg: PostgreSQL only")
    try:
        # Connect before the test: a connection's set-up slowed by a busy machine is not a
        # plan's failure (the path would step aside, rightly, and the comparison with it).
        await found.fetch(sa.select(sa.literal(1)))
        yield found
    finally:
        await found.close()


@pytest.fixture
def schema() -> strawberry.Schema:
    return build_schema(LIMITS)


@pytest.fixture
def compiled(schema: strawberry.Schema) -> CompiledQueries:
    return planner_of(schema)


@dataclass
class Desk:
    """The data set; attributes name the articles the tests look up."""

    ann: Author
    bob: Author
    cat: Author
    economy: Tag
    politics: Tag
    art: Tag
    art_again: Tag
    odd: Tag
    russian: Article  # RU, two authors (Bob before Ann), three tags, BelTA, microseconds
    twin_a: Article  # EN, same published_at as twin_b: the tie goes by id
    twin_b: Article  # EN, no authors, no tags
    belarusian: Article  # BE, BelTA, Cyrillic
    renamed: Article  # published as "old-slug", now "new-slug"
    shared_en: Article  # "shared" in English ...
    shared_ru: Article  # ... and in Russian
    zebra: Article  # "zebra crossing" for search
    draft: Article
    archived: Article
    scheduled: Article  # published_at after NOW
    fillers: list[Article]

    @property
    def hidden(self) -> list[Article]:
        return [self.draft, self.archived, self.scheduled]


async def _article(sessionmaker: SessionMaker, **fields: Any) -> Article:
    return await make_article(sessionmaker, **fields)


@pytest.fixture
async def desk(sessionmaker: SessionMaker) -> Desk:
    ann = await make_author(sessionmaker, "Ann Zeta", slug="ann", bio="Covers economy.")
    bob = await make_author(
        sessionmaker,
        "Бобр Иванов",
        slug="bob",
        bio='Пишет о "политике" \\ и экономике.\nДве строки.',
        avatar_url="https://cdn.example.by/bob.png",
    )
    # Text PostgreSQL escapes inside the row's JSON: it must read back exactly.
    cat = await make_author(
        sessionmaker, "Cat", slug="cat", bio=ESCAPES, avatar_url="https://cdn.example.by/c?a=1&b"
    )
    economy = await make_tag(sessionmaker, "Экономика", slug="economy")
    politics = await make_tag(sessionmaker, "Politics", slug="politics")
    art = await make_tag(sessionmaker, "art", slug="art")
    art_again = await make_tag(sessionmaker, "art", slug="art-again")  # same name: by id
    odd = await make_tag(sessionmaker, ESCAPES[:100], slug="odd")

    russian = await _article(
        sessionmaker,
        title="Первая новость из Минска",
        slug="pervaya-novost",
        lead="Кратко: всё важное.",
        body="# Заголовок\n\n" + "Слово " * 400 + "\n\n* пункт\n* **жирный**",
        language=Language.RU,
        published_at=datetime(2024, 6, 1, 11, 0, 0, 123456, tzinfo=UTC),
        authors=[bob, ann],
        tags=[politics, economy, art],
        source_name="BelTA",
        source_url="https://www.belta.by/news/1",
    )
    same_time = datetime(2024, 5, 31, 8, 30, tzinfo=timezone(timedelta(hours=3)))
    twin_a = await _article(
        sessionmaker,
        title="Twin A",
        slug="twin-a",
        published_at=same_time,
        authors=[cat, ann, bob],
        tags=[art_again, odd, art],
    )
    twin_b = await _article(sessionmaker, title="Twin B", slug="twin-b", published_at=same_time)
    belarusian = await _article(
        sessionmaker,
        title="Навіны з Гродна",
        slug="naviny",
        lead="",
        body="Тэкст артыкула.",
        language=Language.BE,
        published_at=datetime(2024, 5, 28, 7, 15, 0, 1, tzinfo=UTC),
        authors=[bob],
        tags=[economy],
        source_name="BelTA",
    )
    renamed = await _article(
        sessionmaker,
        title="A story that moved",
        slug="old-slug",
        published_at=datetime(2024, 5, 30, 10, tzinfo=UTC),
        authors=[ann],
        tags=[economy, politics],
    )
    async with sessionmaker() as session:
        assert renamed.id is not None
        renamed = await update_article(
            session, viewer=EDITOR, id=renamed.id, expected_version=1, data={"slug": "new-slug"}
        )
    shared_en = await _article(
        sessionmaker,
        title="Shared slug",
        slug="shared",
        published_at=datetime(2024, 5, 20, tzinfo=UTC),
    )
    shared_ru = await _article(
        sessionmaker,
        title="Общий слаг",
        slug="shared",
        language=Language.RU,
        published_at=datetime(2024, 5, 21, tzinfo=UTC),
    )
    zebra = await _article(
        sessionmaker,
        title="Zebra crossing opens",
        slug="zebra",
        lead="A new zebra crossing near the school.",
        published_at=datetime(2024, 5, 25, 6, tzinfo=UTC),
        tags=[politics],
    )
    draft = await _article(
        sessionmaker,
        title="Zebra crossing draft",
        slug="draft",
        status=ArticleStatus.DRAFT,
        authors=[ann],
        tags=[economy],
    )
    archived = await _article(
        sessionmaker,
        title="Zebra crossing archived",
        slug="archived",
        status=ArticleStatus.ARCHIVED,
        published_at=datetime(2024, 1, 1, tzinfo=UTC),
        authors=[ann],
        tags=[economy],
    )
    scheduled = await _article(
        sessionmaker,
        title="Zebra crossing scheduled",
        slug="scheduled",
        published_at=NOW + timedelta(microseconds=1),
        authors=[ann],
        tags=[economy],
    )
    titles = ["apple", "Apple", "Ёжик в тумане", "Ябатька", "banana split", "  spaced"]
    fillers = [
        await _article(
            sessionmaker,
            title=title,
            slug=f"filler-{i}",
            language=[Language.EN, Language.RU, Language.BE][i % 3],
            published_at=datetime(2024, 5, 1 + i, 12, 0, 0, i * 1000, tzinfo=UTC),
            authors=[[ann], [bob, cat], []][i % 3],
            source_name=None if i % 2 else "Reuters",
        )
        for i, title in enumerate(titles)
    ]
    return Desk(
        ann=ann,
        bob=bob,
        cat=cat,
        economy=economy,
        politics=politics,
        art=art,
        art_again=art_again,
        odd=odd,
        russian=russian,
        twin_a=twin_a,
        twin_b=twin_b,
        belarusian=belarusian,
        renamed=renamed,
        shared_en=shared_en,
        shared_ru=shared_ru,
        zebra=zebra,
        draft=draft,
        archived=archived,
        scheduled=scheduled,
        fillers=fillers,
    )


# --- the two paths -----------------------------------------------------------------------


@dataclass
class Paths:
    """One document through the regular path and through the compiled one."""

    schema: strawberry.Schema
    compiled: CompiledQueries
    sessionmaker: SessionMaker
    reader: RawReader

    async def regular(
        self,
        query: str,
        variables: Mapping[str, Any] | None = None,
        operation_name: str | None = None,
        now: datetime = NOW,
        viewer: Viewer = ANONYMOUS,
    ) -> Any:
        return await self.schema.execute(
            query,
            variable_values=dict(variables) if variables is not None else None,
            operation_name=operation_name,
            context_value=Context(sessionmaker=self.sessionmaker, now=now, viewer=viewer),
        )

    async def compiled_answer(
        self,
        query: str,
        variables: Mapping[str, Any] | None = None,
        operation_name: str | None = None,
        now: datetime = NOW,
        viewer: Viewer = ANONYMOUS,
    ) -> bytes | None:
        """The answer when the planner gave it (encoded as the view encodes it); else None."""
        context = Context(
            sessionmaker=self.sessionmaker,
            now=now,
            viewer=viewer,
            planned=True,
            raw_reader=self.reader,
        )
        result = await self.schema.execute(
            query,
            variable_values=dict(variables) if variables is not None else None,
            operation_name=operation_name,
            context_value=context,
        )
        if not context.answered_by_plan:
            return None
        assert result.errors is None
        return orjson.dumps({"data": result.data})

    def planned(self, query: str, operation_name: str | None) -> bool:
        """A plan is kept for ``query`` (its operation ``operation_name``; None: any)."""
        return any(
            plan is not None and text == query and operation_name in (None, name)
            for (text, name, _raw), plan in self.compiled.known.items()
        )

    def plan(self, query: str, operation_name: str | None = None) -> None:
        """Plan ``query`` as a request for it would (documents that do not parse: nothing)."""
        try:
            document = parse(query)
        except GraphQLError:
            return
        self.compiled.plan(query, document, operation_name)

    async def same(
        self,
        query: str,
        variables: Mapping[str, Any] | None = None,
        operation_name: str | None = None,
        now: datetime = NOW,
        viewer: Viewer = ANONYMOUS,
    ) -> Any:
        """Both paths answer, byte for byte alike; the (decoded) data, for further checks."""
        result = await self.regular(query, variables, operation_name, now, viewer)
        assert result.errors is None
        expected = orjson.dumps({"data": result.data})
        answer = await self.compiled_answer(query, variables, operation_name, now, viewer)
        assert answer is not None, "a plannable request was not answered"
        assert self.planned(query, operation_name)
        assert answer.decode() == expected.decode()
        return result.data

    async def agree(
        self, query: str, variables: Mapping[str, Any] | None = None
    ) -> list[str] | None:
        """Either both answer alike, or the regular path errs and the planner steps aside.

        For requests whose fate the test does not decide; returns the regular path's error
        messages, or None when both answered. The document is planned beforehand, as after
        an earlier request with other variables.
        """
        self.plan(query)
        assert self.planned(query, None)
        result = await self.regular(query, variables)
        answer = await self.compiled_answer(query, variables)
        if result.errors:
            assert answer is None
            return [error.message for error in result.errors]
        assert answer is not None, "a plannable request was not answered"
        assert answer.decode() == orjson.dumps({"data": result.data}).decode()
        return None

    async def refused(
        self,
        query: str,
        variables: Mapping[str, Any] | None = None,
        operation_name: str | None = None,
    ) -> list[str]:
        """The regular path reports errors and the compiled one steps aside; the messages."""
        result = await self.regular(query, variables, operation_name)
        assert result.errors
        assert await self.compiled_answer(query, variables, operation_name) is None
        return [error.message for error in result.errors]


@pytest.fixture
def paths(
    schema: strawberry.Schema,
    compiled: CompiledQueries,
    sessionmaker: SessionMaker,
    reader: RawReader,
) -> Paths:
    return Paths(schema, compiled, sessionmaker, reader)


def gid(article: Article) -> str:
    return to_global_id("Article", article.id)


def slugs(connection: Any) -> list[str]:
    return [node["slug"] for node in connection["nodes"]]


# --- SQLite: never compiled ---------------------------------------------------------------


async def test_only_postgresql_has_a_raw_reader(engine: AsyncEngine) -> None:
    # given: the engine of either database
    # when
    reader = RawReader.for_engine(engine)
    # then: on SQLite there is no reader, so the server always runs the regular path
    try:
        assert (reader is None) == (engine.dialect.name == "sqlite")
    finally:
        if reader is not None:
            await reader.close()


# --- answers equal to the regular path's -------------------------------------------------


async def test_fragments_on_an_interface(paths: Paths, desk: Desk) -> None:
    await paths.same(
        "{ articles { nodes { ... on Node { id } ...Id slug } } } fragment Id on Node { id }"
    )


async def test_a_node_that_is_an_article_is_left_to_graphql(paths: Paths, desk: Desk) -> None:
    query = f'{{ node(id: "{gid(desk.russian)}") {{ id ... on Article {{ title }} }} }}'
    result = await paths.regular(query)
    assert result.errors is None and result.data["node"]["title"]
    paths.plan(query)
    assert paths.planned(query, None)  # planned for the other types
    assert await paths.compiled_answer(query) is None  # an article's ID: graphql-core answers


SKIP = """
query Skip($no: Boolean!) {
  articles { nodes { slug title @skip(if: $no) authors @include(if: $no) { name } } }
}
"""


@pytest.mark.parametrize("no", [True, False])
async def test_skip_and_include_on_variables(paths: Paths, desk: Desk, no: bool) -> None:
    paths.plan(SKIP)  # planned first for the other value
    await paths.same(SKIP, {"no": not no})
    data = await paths.same(SKIP, {"no": no})
    assert all(("title" in node) is not no for node in data["articles"]["nodes"])


async def test_list_page(paths: Paths, desk: Desk) -> None:
    data = await paths.same(LIST_PAGE)

    visible = [
        desk.russian,
        desk.twin_b,  # same instant as twin_a: the larger id first, newest first
        desk.twin_a,
        desk.renamed,
        desk.belarusian,
        desk.zebra,
        desk.shared_ru,
        desk.shared_en,
        *reversed(desk.fillers),
    ]
    assert slugs(data["articles"]) == [a.slug for a in visible]
    first = data["articles"]["nodes"][0]
    assert first == {
        "title": "Первая новость из Минска",
        "slug": "pervaya-novost",
        "lead": "Кратко: всё важное.",
        "publishedAt": "2024-06-01T11:00:00.123456+00:00",
        "authors": [{"name": "Бобр Иванов"}, {"name": "Ann Zeta"}],
    }


async def test_article_by_slug_with_every_plannable_field(paths: Paths, desk: Desk) -> None:
    data = await paths.same(ARTICLE_BY_SLUG, {"slug": "pervaya-novost"})

    article = data["article"]
    assert article["id"] == gid(desk.russian)
    assert [a["slug"] for a in article["authors"]] == ["bob", "ann"]  # byline order
    assert [t["name"] for t in article["tags"]] == sorted(["Politics", "Экономика", "art"])
    assert article["authors"][0] == {
        "__typename": "Author",
        "id": to_global_id("Author", desk.bob.id),
        "slug": "bob",
        "name": "Бобр Иванов",
        "bio": 'Пишет о "политике" \\ и экономике.\nДве строки.',
        "avatarUrl": "https://cdn.example.by/bob.png",
    }
    assert article["status"] == "PUBLISHED"
    assert article["language"] == "RU"
    assert article["readingTimeMinutes"] > 1


@pytest.mark.parametrize(
    ("slug", "language"),
    [
        ("twin-a", None),  # three authors, one tag
        ("twin-b", None),  # no authors, no tags, no source
        ("naviny", "BE"),
        ("naviny", None),
        ("shared", None),  # two languages share it: the first by id
        ("shared", "RU"),
        ("shared", "EN"),
        ("new-slug", None),
        ("old-slug", None),  # renamed: the old slug still finds it
        ("old-slug", "EN"),
        ("old-slug", "RU"),  # the old slug is English only
        ("zebra", "BE"),
        ("no-such-article", None),
        ("draft", None),  # never leaked ...
        ("archived", None),
        ("scheduled", None),  # ... nor one published after now
        ("Первая", None),
        ("", None),
    ],
)
async def test_article_by_slug(paths: Paths, desk: Desk, slug: str, language: str | None) -> None:
    variables = {"slug": slug, "language": language}
    data = await paths.same(ARTICLE_BY_SLUG, variables)

    found = data["article"]
    expected_slug = {
        ("old-slug", None): "new-slug",
        ("old-slug", "EN"): "new-slug",
    }.get((slug, language), slug)
    hidden = {"draft", "archived", "scheduled", "no-such-article", "Первая", ""}
    if slug in hidden or (slug, language) in {("old-slug", "RU"), ("zebra", "BE")}:
        assert data == {"article": None}
    else:
        assert found["slug"] == expected_slug


async def test_renamed_slug_reads_the_same_article(paths: Paths, desk: Desk) -> None:
    old = await paths.same(ARTICLE_BY_SLUG, {"slug": "old-slug"})
    new = await paths.same(ARTICLE_BY_SLUG, {"slug": "new-slug"})

    assert old == new
    assert old["article"]["id"] == gid(desk.renamed)
    assert old["article"]["version"] == 2


async def test_article_by_id(paths: Paths, desk: Desk) -> None:
    for article in [desk.russian, desk.twin_b, desk.renamed, desk.belarusian]:
        data = await paths.same(ARTICLE_BY_ID, {"id": gid(article)})
        assert data["article"]["slug"] == article.slug
    for hidden in desk.hidden:
        assert await paths.same(ARTICLE_BY_ID, {"id": gid(hidden)}) == {"article": None}
    missing = to_global_id("Article", 999_999)
    # base64 decoding skips a newline: both paths read the same article
    assert desk.russian.id == 1
    loose = await paths.same(ARTICLE_BY_ID, {"id": gid(desk.russian) + "\n"})
    assert loose["article"]["slug"] == "pervaya-novost"
    assert await paths.same(ARTICLE_BY_ID, {"id": missing}) == {"article": None}


async def test_article_by_slug_or_id(paths: Paths, desk: Desk) -> None:
    both = {"slug": "twin-a", "id": gid(desk.twin_a)}
    assert await paths.same(ARTICLE_BY_SLUG_OR_ID, both) == {
        "article": {"slug": "twin-a", "title": "Twin A"}
    }
    mismatched = {"slug": "twin-a", "id": gid(desk.twin_b)}
    assert await paths.same(ARTICLE_BY_SLUG_OR_ID, mismatched) == {"article": None}
    assert await paths.same(ARTICLE_BY_SLUG_OR_ID, {"id": gid(desk.zebra)}) == {
        "article": {"slug": "zebra", "title": "Zebra crossing opens"}
    }


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("zebra crossing", ["zebra"]),  # two words; drafts and the rest stay hidden
        ("Zebra   SCHOOL", ["zebra"]),
        ("новость Минска", ["pervaya-novost"]),
        ("zebra nothing", []),
        ("   ", None),  # blank: no condition at all
        ("!!!", []),  # no words: nothing
        ("twin", ["twin-b", "twin-a"]),
    ],
)
async def test_search(paths: Paths, desk: Desk, search: str, expected: list[str] | None) -> None:
    data = await paths.same(SEARCH, {"search": search})

    if expected is None:
        assert len(data["articles"]["nodes"]) == 14
    else:
        assert slugs(data["articles"]) == expected


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        ({"language": "RU"}, ["pervaya-novost", "shared", "filler-4", "filler-1"]),
        ({"language": "BE"}, ["naviny", "filler-5", "filler-2"]),
        ({"tag": "economy"}, ["pervaya-novost", "new-slug", "naviny"]),
        ({"tag": "art"}, ["pervaya-novost", "twin-a"]),
        ({"tag": "no-such-tag"}, []),
        ({"author": "ann"}, ["pervaya-novost", "twin-a", "new-slug", "filler-3", "filler-0"]),
        ({"author": "cat"}, ["twin-a", "filler-4", "filler-1"]),
        ({"sourceName": "BelTA"}, ["pervaya-novost", "naviny"]),
        ({"sourceName": "BelTA", "language": "RU"}, ["pervaya-novost"]),
        ({"sourceName": "Reuters", "author": "ann"}, ["filler-0"]),
        ({"publishedAfter": "2024-05-31T05:30:00Z"}, ["pervaya-novost", "twin-b", "twin-a"]),
        ({"publishedAfter": "2024-05-31T05:30:00.000001Z"}, ["pervaya-novost"]),
        ({"publishedBefore": "2024-05-02T12:00:00+00:00"}, ["filler-0"]),
        (
            {
                "publishedAfter": "2024-05-28T10:15:00.000001+03:00",
                "publishedBefore": "2024-06-01T14:00:00.123457+03:00",
            },
            ["pervaya-novost", "twin-b", "twin-a", "new-slug", "naviny"],
        ),
        ({"status": "PUBLISHED", "tag": "economy"}, ["pervaya-novost", "new-slug", "naviny"]),
        ({"status": "DRAFT"}, []),  # the public sees no drafts, even when asking for them
        ({"status": "ARCHIVED"}, []),
        ({"author": "ann", "tag": "economy", "language": "EN"}, ["new-slug"]),
    ],
)
async def test_filters(
    paths: Paths, desk: Desk, filter: dict[str, str], expected: list[str]
) -> None:
    data = await paths.same(FILTERED, {"filter": filter})

    assert slugs(data["articles"]) == expected


EDITORS_READS = [
    (LIST_PAGE, None),
    (FILTERED, {"filter": {"status": "DRAFT"}}),
    (FILTERED, {"filter": {"status": "ARCHIVED", "language": "EN"}}),
    (FILTERED, {"filter": {}}),
    (ORDERED, {"orderBy": "TITLE_ASC"}),
    (SEARCH, {"search": "zebra crossing"}),
    (ARTICLE_BY_SLUG, {"slug": "draft"}),
    (ARTICLE_BY_SLUG, {"slug": "scheduled"}),
    (ARTICLE_BY_SLUG, {"slug": "archived"}),
    (FRAGMENTS, {"slug": "shared"}),
]


@pytest.mark.parametrize(("query", "variables"), EDITORS_READS)
async def test_an_editor_gets_the_executors_answer_with_what_only_editors_see(
    paths: Paths, desk: Desk, query: str, variables: dict[str, Any] | None
) -> None:
    # when: the same document, read by an editor and by the public
    editor = await paths.same(query, variables, viewer=EDITOR)
    public = await paths.same(query, variables)

    # then: each gets the executor's answer; the editor's has drafts where it asks for them
    if variables in ({"slug": "draft"}, {"filter": {"status": "DRAFT"}}):
        assert editor != public
        assert "draft" in orjson.dumps(editor).decode()
        assert "draft" not in orjson.dumps(public).decode()


async def test_plans_kept_for_the_public_are_not_an_editors(paths: Paths, desk: Desk) -> None:
    # given: the draft's page, answered to the public (prepared and kept)
    assert await paths.same(ARTICLE_BY_SLUG, {"slug": "draft"}) == {"article": None}
    # when / then: an editor asking the same gets the draft, and the public still does not
    editor = await paths.same(ARTICLE_BY_SLUG, {"slug": "draft"}, viewer=EDITOR)
    assert editor["article"]["slug"] == "draft"
    assert await paths.same(ARTICLE_BY_SLUG, {"slug": "draft"}) == {"article": None}


async def test_filters_written_inline(paths: Paths, desk: Desk) -> None:
    data = await paths.same(FILTERED_INLINE)

    assert data == {
        "belta": {"nodes": [{"slug": "pervaya-novost", "sourceName": "BelTA"}]},
        "economy": {
            "nodes": [{"slug": "new-slug"}, {"slug": "naviny"}, {"slug": "pervaya-novost"}]
        },
        "recent": {"nodes": [{"slug": "pervaya-novost"}]},
    }


@pytest.mark.parametrize("order", list(ArticleOrder))
async def test_every_order(paths: Paths, desk: Desk, order: ArticleOrder) -> None:
    data = await paths.same(ORDERED, {"orderBy": order.value})

    edges = data["articles"]["edges"]
    assert len(edges) == 14
    assert data["articles"]["pageInfo"]["hasNextPage"] is False
    assert data["articles"]["pageInfo"]["startCursor"] == edges[0]["cursor"]
    assert data["articles"]["pageInfo"]["endCursor"] == edges[-1]["cursor"]


@pytest.mark.parametrize("order", list(ArticleOrder))
@pytest.mark.parametrize("size", [1, 3, 5])
async def test_paging_forwards_then_backwards(
    paths: Paths, desk: Desk, order: ArticleOrder, size: int
) -> None:
    # given: the whole list in this order
    everything = await paths.same(ORDERED, {"orderBy": order.value})
    expected = [edge["node"]["slug"] for edge in everything["articles"]["edges"]]

    # when: following endCursor to the last page
    forwards: list[str] = []
    after = None
    while True:
        variables = {"first": size, "after": after, "orderBy": order.value}
        page = (await paths.same(PAGES, variables))["articles"]
        forwards += [edge["node"]["slug"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    # then
    assert forwards == expected

    # when: following startCursor back to the first page
    backwards: list[str] = []
    before = None
    while True:
        variables = {"last": size, "before": before, "orderBy": order.value}
        page = (await paths.same(PAGES, variables))["articles"]
        backwards = [edge["node"]["slug"] for edge in page["edges"]] + backwards
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    # then
    assert backwards == expected


async def test_pages_between_two_cursors_and_empty_pages(paths: Paths, desk: Desk) -> None:
    everything = await paths.same(ORDERED, {"orderBy": "PUBLISHED_AT_DESC"})
    cursors = [edge["cursor"] for edge in everything["articles"]["edges"]]
    slugs_in_order = [edge["node"]["slug"] for edge in everything["articles"]["edges"]]

    between = await paths.same(PAGES, {"after": cursors[1], "before": cursors[6]})
    assert [e["node"]["slug"] for e in between["articles"]["edges"]] == slugs_in_order[2:6]
    between_first = await paths.same(PAGES, {"first": 2, "after": cursors[1], "before": cursors[6]})
    assert [e["node"]["slug"] for e in between_first["articles"]["edges"]] == slugs_in_order[2:4]
    between_last = await paths.same(PAGES, {"last": 2, "after": cursors[1], "before": cursors[6]})
    assert [e["node"]["slug"] for e in between_last["articles"]["edges"]] == slugs_in_order[4:6]
    first_before = await paths.same(PAGES, {"first": 2, "before": cursors[6]})
    assert [e["node"]["slug"] for e in first_before["articles"]["edges"]] == slugs_in_order[:2]
    last_after = await paths.same(PAGES, {"last": 2, "after": cursors[1]})
    assert [e["node"]["slug"] for e in last_after["articles"]["edges"]] == slugs_in_order[-2:]
    crossed = await paths.same(PAGES, {"after": cursors[6], "before": cursors[1]})
    assert crossed["articles"]["edges"] == []
    only_before = await paths.same(PAGES, {"before": cursors[3]})
    assert [e["node"]["slug"] for e in only_before["articles"]["edges"]] == slugs_in_order[:3]

    empty = await paths.same(PAGES, {"first": 0})
    assert empty == {
        "articles": {
            "edges": [],
            "pageInfo": {
                "hasNextPage": True,
                "hasPreviousPage": False,
                "startCursor": None,
                "endCursor": None,
            },
        }
    }
    past_the_end = await paths.same(PAGES, {"first": 5, "after": cursors[-1]})
    assert past_the_end["articles"]["edges"] == []
    assert await paths.same(PAGES, {"last": 0, "before": cursors[0]})


async def test_aliases_and_repeated_fields(paths: Paths, desk: Desk) -> None:
    data = await paths.same(ALIASES, {"slug": "twin-a"})

    assert data["latest"] == {
        "items": [
            {
                "headline": "Первая новость из Минска",
                "title": "Первая новость из Минска",
                "slug": "pervaya-novost",
            },
            {"headline": "Twin B", "title": "Twin B", "slug": "twin-b"},
        ],
        "nodes": [{"slug": "pervaya-novost"}, {"slug": "twin-b"}],
        "info": {"more": True},
    }
    assert data["one"] == {
        "title": "Twin A",
        "t": "Twin A",
        "authors": [
            {"name": "Cat", "slug": "cat"},
            {"name": "Ann Zeta", "slug": "ann"},
            {"name": "Бобр Иванов", "slug": "bob"},
        ],
        "byline": [{"who": "Cat"}, {"who": "Ann Zeta"}, {"who": "Бобр Иванов"}],
    }
    assert data["two"] == {"slug": "twin-a"}


async def test_fragments(paths: Paths, desk: Desk) -> None:
    data = await paths.same(FRAGMENTS, {"slug": "pervaya-novost"})

    assert list(data) == ["__typename", "article", "articles"]
    assert list(data["article"]) == ["slug", "title", "language", "authors", "tags", "body", "lead"]


async def test_typename_at_every_level(paths: Paths, desk: Desk) -> None:
    data = await paths.same(TYPENAMES, {"slug": "twin-a"})

    assert data["__typename"] == data["t"] == "Query"
    assert data["articles"]["__typename"] == "ArticleConnection"
    assert data["articles"]["edges"][0]["__typename"] == "ArticleEdge"
    assert data["articles"]["pageInfo"] == {"__typename": "PageInfo"}
    assert data["article"]["authors"][0]["__typename"] == "Author"
    tags = data["article"]["tags"]
    assert {tag["__typename"] for tag in tags} == {"Tag"}
    assert {tag["name"] for tag in tags} == {"art", ESCAPES}
    # two tags of one name: by id
    assert [tag["slug"] for tag in tags if tag["name"] == "art"] == ["art", "art-again"]


@pytest.mark.parametrize(
    "variables",
    [
        {},
        {"first": 5},
        {"first": None},  # explicitly null: not the default
        {"orderBy": "PUBLISHED_AT_ASC", "language": "RU"},
        {"language": None},
        {"slug": "old-slug"},
        {"slug": "shared", "first": 100, "orderBy": "UPDATED_AT_DESC", "language": "BE"},
    ],
)
async def test_variables_with_defaults(paths: Paths, desk: Desk, variables: dict[str, Any]) -> None:
    await paths.same(DEFAULTS, variables)


async def test_typename_alone(paths: Paths, desk: Desk) -> None:
    assert await paths.same(TYPENAME_ONLY) == {"__typename": "Query"}


async def test_fields_of_one_key_are_merged(paths: Paths, desk: Desk) -> None:
    data = await paths.same(MERGED, {"slug": "twin-a"})

    assert list(data) == ["article", "articles"]
    assert list(data["article"]) == ["title", "authors", "slug", "tags", "publishedAt", "updatedAt"]
    assert data["article"]["authors"][0] == {"name": "Cat", "slug": "cat"}
    assert list(data["articles"]) == ["nodes", "pageInfo"]
    assert list(data["articles"]["nodes"][0]) == ["slug", "title", "publishedAt", "updatedAt"]
    assert list(data["articles"]["pageInfo"]) == ["endCursor", "hasNextPage", "startCursor"]


async def test_a_query_beside_a_mutation(paths: Paths, desk: Desk) -> None:
    document = TWO_OPERATIONS + CREATE_TAG

    assert await paths.same(document, operation_name="Oldest") == {
        "articles": {"nodes": [{"slug": "filler-0"}]}
    }
    paths.plan(document, "CreateTag")
    assert not paths.planned(document, "CreateTag")


@pytest.mark.parametrize("offset", [timedelta(hours=3), timedelta(hours=-11)])
async def test_now_in_another_time_zone(paths: Paths, desk: Desk, offset: timedelta) -> None:
    # the same instant, written with another offset: the same answer
    now = (NOW + timedelta(microseconds=1)).astimezone(timezone(offset))
    data = await paths.same(LIST_PAGE, now=now)

    assert slugs(data["articles"])[0] == "scheduled"


async def test_concurrent_answers(paths: Paths, desk: Desk) -> None:
    # given: several documents, each answered once by the regular path
    requests = [
        (LIST_PAGE, None),
        (ARTICLE_BY_SLUG, {"slug": "twin-a"}),
        (ARTICLE_BY_SLUG, {"slug": "old-slug"}),
        (ARTICLE_BY_ID, {"id": gid(desk.russian)}),
        (SEARCH, {"search": "zebra crossing"}),
        (FILTERED, {"filter": {"author": "bob"}}),
        (ORDERED, {"orderBy": "TITLE_ASC"}),
        (ALIASES, {"slug": "naviny"}),
        (FRAGMENTS, {"slug": "shared"}),
    ] * 3
    expected = []
    for query, variables in requests:
        expected.append(orjson.dumps({"data": await paths.same(query, variables)}))
    # when: all answered at once, more of them than the reader has connections
    answers = await asyncio.gather(
        *(paths.compiled_answer(query, variables) for query, variables in requests)
    )
    # then
    assert list(answers) == expected


async def test_the_oldest_documents_are_forgotten(paths: Paths, desk: Desk) -> None:
    # given: one document planned, then a thousand others
    await paths.same(LIST_PAGE)
    for i in range(1000):
        paths.plan(f"query Q{i} {{ __typename }}", None)
    # then: the first is no longer known; its next request plans it again
    assert not paths.planned(LIST_PAGE, None)
    assert paths.planned("query Q999 { __typename }", None)
    await paths.same(LIST_PAGE)
    assert not paths.planned("query Q0 { __typename }", None)


async def test_prepared_statements_are_kept_by_small_arguments_only(
    paths: Paths, desk: Desk
) -> None:
    # given: the article page, admitted
    await paths.same(ARTICLE_BY_SLUG, {"slug": desk.russian.slug})
    kept = len(paths.compiled.statements.items)

    # when: asked again, and with ever different long slugs
    await paths.same(ARTICLE_BY_SLUG, {"slug": desk.russian.slug})
    for n in range(5):
        assert await paths.agree(ARTICLE_BY_SLUG, {"slug": f"{n}-" + "x" * 300}) is None

    # then: the short one's statements are reused, the long ones are built and dropped
    assert len(paths.compiled.statements.items) == kept >= 1


async def test_the_operation_named(paths: Paths, desk: Desk) -> None:
    newest = await paths.same(TWO_OPERATIONS, operation_name="Newest")
    oldest = await paths.same(TWO_OPERATIONS, operation_name="Oldest")

    assert newest == {"articles": {"nodes": [{"slug": "pervaya-novost"}]}}
    assert oldest == {"articles": {"nodes": [{"slug": "filler-0"}]}}


async def test_each_request_reads_the_current_rows(
    paths: Paths, desk: Desk, sessionmaker: SessionMaker
) -> None:
    # given: both documents planned while the draft is a draft
    before = await paths.same(LIST_PAGE)
    assert "draft" not in slugs(before["articles"])
    assert await paths.same(ARTICLE_BY_SLUG, {"slug": "draft"}) == {"article": None}
    assert desk.draft.id is not None

    # when: it is published
    async with sessionmaker() as session:
        await publish_article(
            session, viewer=EDITOR, id=desk.draft.id, at=NOW - timedelta(minutes=1)
        )
    # then: the next answers show it
    published = await paths.same(LIST_PAGE)
    assert slugs(published["articles"])[0] == "draft"
    article = (await paths.same(ARTICLE_BY_SLUG, {"slug": "draft"}))["article"]
    assert article["status"] == "PUBLISHED"
    assert article["authors"] == [
        {
            "__typename": "Author",
            "id": to_global_id("Author", desk.ann.id),
            "slug": "ann",
            "name": "Ann Zeta",
            "bio": "Covers economy.",
            "avatarUrl": None,
        }
    ]

    # when: it is scheduled for later, then unpublished, then archived
    async with sessionmaker() as session:
        await publish_article(session, viewer=EDITOR, id=desk.draft.id, at=NOW + timedelta(hours=1))
    scheduled = await paths.same(LIST_PAGE)
    assert "draft" not in slugs(scheduled["articles"])
    # ... and read an hour and a second later, when it is out
    later = await paths.same(LIST_PAGE, now=NOW + timedelta(hours=1, seconds=1))
    assert slugs(later["articles"])[0] == "draft"

    async with sessionmaker() as session:
        await unpublish_article(session, viewer=EDITOR, id=desk.draft.id)
    assert await paths.same(ARTICLE_BY_SLUG, {"slug": "draft"}) == {"article": None}
    assert await paths.same(LIST_PAGE) == before

    async with sessionmaker() as session:
        await publish_article(session, viewer=EDITOR, id=desk.draft.id, at=NOW - timedelta(days=1))
        await archive_article(session, viewer=EDITOR, id=desk.draft.id)
    assert await paths.same(ARTICLE_BY_SLUG, {"slug": "draft"}) == {"article": None}
    assert await paths.same(LIST_PAGE) == before


async def test_an_edit_shows_in_the_next_answer(
    paths: Paths, desk: Desk, sessionmaker: SessionMaker
) -> None:
    # given
    await paths.same(ARTICLE_BY_SLUG, {"slug": "twin-b"})
    assert desk.twin_b.id is not None
    # when: the title, slug, byline and tags change
    async with sessionmaker() as session:
        await update_article(
            session,
            viewer=EDITOR,
            id=desk.twin_b.id,
            expected_version=1,
            data={
                "title": "Двойник Б",
                "slug": "dvoynik",
                "author_ids": [desk.cat.id, desk.bob.id],
                "tag_ids": [desk.art.id, desk.politics.id],
                "source_name": "BelTA",
            },
        )
    # then
    data = await paths.same(ARTICLE_BY_SLUG, {"slug": "twin-b"})
    assert data["article"]["title"] == "Двойник Б"
    assert [a["slug"] for a in data["article"]["authors"]] == ["cat", "bob"]
    assert [t["slug"] for t in data["article"]["tags"]] == ["politics", "art"] or [
        t["slug"] for t in data["article"]["tags"]
    ] == ["art", "politics"]
    await paths.same(LIST_PAGE)


# --- not planned ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(UNPLANNABLE))
async def test_unplannable_documents_are_left_to_graphql(
    paths: Paths, desk: Desk, name: str
) -> None:
    # given: a document the regular path answers without errors
    query = UNPLANNABLE[name]
    result = await paths.regular(query)
    assert result.errors is None
    # when
    paths.plan(query, None)
    # then
    assert not paths.planned(query, None)
    assert await paths.compiled_answer(query) is None


@pytest.mark.parametrize("name", list(AS_OBJECTS))
async def test_what_a_raw_row_lacks_is_planned_as_objects(
    paths: Paths, desk: Desk, name: str
) -> None:
    # given: a document whose articles a raw row cannot answer
    query = AS_OBJECTS[name]

    # when, then: planned all the same, with the regular path's answer, editors' too
    await paths.same(query)
    await paths.same(query, viewer=EDITOR)


@pytest.mark.parametrize("query", [REVISIONS, CREATE_TAG, "{ articles { nodes { slug } "])
async def test_refused_and_unparsable_documents_are_never_planned(
    paths: Paths, desk: Desk, query: str
) -> None:
    # given: the regular path refuses it (the public may not do this, or it does not parse)
    await paths.refused(query)
    # when: admitted all the same
    paths.plan(query, None)
    # then
    assert not paths.planned(query, None)
    assert await paths.compiled_answer(query) is None


async def test_an_operation_name_not_in_the_document(paths: Paths, desk: Desk) -> None:
    await paths.same(TWO_OPERATIONS, operation_name="Newest")
    paths.plan(TWO_OPERATIONS, "Missing")

    # Strawberry raises for it before executing (the server reports it): never planned.
    with pytest.raises(CannotGetOperationTypeError):
        await paths.compiled_answer(TWO_OPERATIONS, operation_name="Missing")
    assert not paths.planned(TWO_OPERATIONS, "Missing")
    # Without a name Strawberry runs the first operation, and so does the plan.
    assert await paths.same(TWO_OPERATIONS) == await paths.same(TWO_OPERATIONS, None, "Newest")


# --- what the regular path refuses, the compiled path does not answer ---------------------


async def test_a_page_size_over_the_maximum(paths: Paths, desk: Desk) -> None:
    await paths.same(PAGE_SIZE, {"first": 100})

    assert await paths.refused(PAGE_SIZE, {"first": 500}) == ["first must be between 0 and 100"]
    assert await paths.refused(PAGE_SIZE, {"first": -1}) == ["first must be between 0 and 100"]
    # written into the document: the server never admits it, but a plan must not answer it
    paths.plan(FIRST_500, None)
    assert await paths.refused(FIRST_500)
    paths.plan(FIRST_AND_LAST, None)
    assert await paths.refused(FIRST_AND_LAST)


@pytest.mark.parametrize(
    "after",
    [
        "garbage",
        "",
        "eyJvIjoicGQiLCJ2IjpbXX0",  # {"o":"pd","v":[]}
        "eyJvIjoidGEiLCJ2IjpbIngiLDFdfQ",  # a TITLE_ASC cursor given to the default order
        "eyJvIjoicGQiLCJ2IjpbIjIwMjQtMDEtMDFUMDA6MDA6MDAiLDFdfQ",  # a naive timestamp
        "eyJvIjoicGQiLCJ2IjpbbnVsbCwtMV19",  # a negative id
    ],
)
async def test_a_bad_cursor(paths: Paths, desk: Desk, after: str) -> None:
    await paths.same(AFTER, {"after": None})

    assert await paths.refused(AFTER, {"after": after}) == ["Invalid cursor for 'after'"]


def _cursor(order: str, *values: Any) -> str:
    """A cursor made by hand, as a client may: valid, but for no row the API handed out."""
    return base64.urlsafe_b64encode(orjson.dumps({"o": order, "v": values})).decode().rstrip("=")


@pytest.mark.parametrize(
    "variables",
    [
        {"after": _cursor("pd", None, 5)},  # NULL sorts last: every dated row is after it
        {"after": _cursor("pa", None, 5), "orderBy": "PUBLISHED_AT_ASC"},
        {"after": _cursor("pd", "2024-05-31T08:30:00+03:00", 4)},  # between the twins
        {"after": _cursor("pd", "2024-05-31T05:30:00.000001Z", 2**31 - 1)},
        {"after": _cursor("pa", "2024-05-01T12:00:00+00:00", 1), "orderBy": "PUBLISHED_AT_ASC"},
        {"after": _cursor("ta", "Ёж", 1), "orderBy": "TITLE_ASC"},
        {"after": _cursor("ta", "", 1), "orderBy": "TITLE_ASC"},
        {"after": _cursor("ud", "2999-01-01T00:00:00+00:00", 1), "orderBy": "UPDATED_AT_DESC"},
    ],
)
async def test_cursors_made_by_hand(paths: Paths, desk: Desk, variables: dict[str, Any]) -> None:
    await paths.same(AFTER, variables)


INVALID_AFTER = ["Invalid cursor for 'after'"]
# The regular path's own failure (an instant datetime cannot hold once in UTC): the compiled
# path must step aside all the same.
SEARCH_TOO_LONG = ["The search text is longer than 500 characters"]


@pytest.mark.parametrize(
    ("variables", "errors"),
    [
        ({"after": _cursor("pd", "0001-01-01T00:00:00+01:00", 1)}, INVALID_AFTER),
        ({"after": _cursor("pd", "9999-12-31T23:59:59-01:00", 1)}, INVALID_AFTER),
        ({"after": _cursor("pd", "0001-01-01T00:00:00+00:00", 1)}, None),
        ({"after": _cursor("pd", "9999-12-31T23:59:59.999999+00:00", 1)}, None),
        ({"after": _cursor("pd", "2024-05-31T05:30:00+00:00", 2**31 - 1)}, None),
        ({"after": _cursor("pd", "2024-05-31T05:30:00+00:00", 2**31)}, INVALID_AFTER),
        ({"after": _cursor("pd", "2024-05-31T05:30:00+00:00", 1.0)}, INVALID_AFTER),
        ({"after": _cursor("pd", "2024-05-31T05:30:00+00:00", True)}, INVALID_AFTER),
        ({"after": _cursor("pd", "2024-05-31", 1)}, INVALID_AFTER),
        ({"after": _cursor("ta", "a" * 1001, 1), "orderBy": "TITLE_ASC"}, INVALID_AFTER),
        ({"after": _cursor("ta", "a" * 1000, 1), "orderBy": "TITLE_ASC"}, None),
        ({"after": _cursor("ta", "a\x00", 1), "orderBy": "TITLE_ASC"}, INVALID_AFTER),
        ({"after": _cursor("ta", None, 1), "orderBy": "TITLE_ASC"}, INVALID_AFTER),
        ({"after": _cursor("ud", None, 1), "orderBy": "UPDATED_AT_DESC"}, INVALID_AFTER),
    ],
)
async def test_extreme_cursors(
    paths: Paths, desk: Desk, variables: dict[str, Any], errors: list[str] | None
) -> None:
    assert await paths.agree(AFTER, variables) == errors


@pytest.mark.parametrize(
    ("search", "errors"),
    [
        ("zebra " * 200_000, SEARCH_TOO_LONG),  # PostgreSQL itself refuses about a megabyte
        (" ".join(f"w{i}" for i in range(20_000)), SEARCH_TOO_LONG),
        ("a" * 501, SEARCH_TOO_LONG),
        ("a" * 500, None),  # a word too long to index: left out
        (" ".join(["zebra"] * 83), None),
    ],
)
async def test_huge_searches(
    paths: Paths, desk: Desk, search: str, errors: list[str] | None
) -> None:
    assert await paths.agree(SEARCH, {"search": search}) == errors


async def test_a_cursor_of_another_order(paths: Paths, desk: Desk) -> None:
    page = await paths.same(PAGES, {"first": 2, "orderBy": "TITLE_ASC"})
    cursor = page["articles"]["pageInfo"]["endCursor"]
    await paths.same(AFTER, {"after": cursor, "orderBy": "TITLE_ASC"})

    assert await paths.refused(AFTER, {"after": cursor}) == ["Invalid cursor for 'after'"]


async def test_an_explicitly_null_order(paths: Paths, desk: Desk) -> None:
    await paths.same(PAGES, {"first": 2})

    assert await paths.refused(PAGES, {"first": 2, "orderBy": None})


@pytest.mark.parametrize(
    ("query", "variables", "expected"),
    [
        (ARTICLE_BY_SLUG, {"slug": "zebra\x00"}, None),
        (ARTICLE_BY_SLUG, {"slug": "\ud800"}, None),
        (ARTICLE_BY_SLUG, {"slug": "old-slug\x00", "language": "EN"}, None),
        (SEARCH, {"search": "zebra\x00crossing"}, ["zebra"]),
        (SEARCH, {"search": "\ud800zebra"}, ["zebra"]),
        (SEARCH, {"search": "zebra & !crossing | (twin"}, []),  # no query syntax gets through
        (SEARCH, {"search": "ZEBRA:* crossing'"}, ["zebra"]),
        (SEARCH, {"search": "ё"}, []),
        (SEARCH, {"search": "x" * 500}, []),
        (FILTERED, {"filter": {"tag": "economy\x00"}}, []),
        (FILTERED, {"filter": {"author": "\ud800"}}, []),
        (FILTERED, {"filter": {"sourceName": "BelTA\x00"}}, []),
        (FILTERED, {"filter": {"sourceName": ""}}, []),
        (FILTERED, {"filter": {"tag": "odd", "author": "ann"}}, ["twin-a"]),
    ],
)
async def test_odd_strings(
    paths: Paths,
    desk: Desk,
    query: str,
    variables: dict[str, Any],
    expected: list[str] | None,
) -> None:
    data = await paths.same(query, variables)

    if expected is None:
        assert data == {"article": None}
    else:
        assert slugs(data["articles"]) == expected


async def test_an_article_without_id_or_slug(paths: Paths, desk: Desk) -> None:
    await paths.same(ARTICLE_BY_SLUG_OR_ID, {"slug": "zebra"})

    assert await paths.refused(ARTICLE_BY_SLUG_OR_ID, {}) == ["Pass id or slug"]
    assert await paths.refused(ARTICLE_BY_SLUG_OR_ID, {"slug": None, "id": None})
    paths.plan(ARTICLE_WITHOUT_KEY, None)
    assert await paths.refused(ARTICLE_WITHOUT_KEY) == ["Pass id or slug"]


@pytest.mark.parametrize(
    "id",
    [
        "not-an-id",
        to_global_id("Author", 1),
        to_global_id("Article", 0),
        to_global_id("Article", 2**31),
        "QXJ0aWNsZQ==",  # "Article", no key
    ],
)
async def test_a_bad_global_id(paths: Paths, desk: Desk, id: str) -> None:
    await paths.same(ARTICLE_BY_ID, {"id": gid(desk.zebra)})

    assert await paths.refused(ARTICLE_BY_ID, {"id": id})


@pytest.mark.parametrize(
    ("query", "good", "bad"),
    [
        (PAGE_SIZE, {"first": 2}, {"first": "two"}),
        (PAGE_SIZE, {"first": 2}, {"first": 2.5}),
        (ARTICLE_BY_SLUG, {"slug": "zebra"}, {"slug": None}),
        (ARTICLE_BY_SLUG, {"slug": "zebra"}, {}),
        (ARTICLE_BY_SLUG, {"slug": "zebra"}, {"slug": 7}),
        (ARTICLE_BY_SLUG, {"slug": "zebra"}, {"slug": "zebra", "language": "DE"}),
        (ARTICLE_BY_SLUG, {"slug": "zebra"}, {"slug": "zebra", "language": "en"}),
        (ORDERED, {"orderBy": "TITLE_ASC"}, {"orderBy": "TITLE_DESC"}),
        (FILTERED, {"filter": {}}, {"filter": {"language": "FR"}}),
        (FILTERED, {"filter": {}}, {"filter": {"unknown": 1}}),
        (FILTERED, {"filter": {}}, {"filter": {"publishedAfter": "yesterday"}}),
        # a timestamp without a UTC offset names no instant: the domain refuses it
        (FILTERED, {"filter": {}}, {"filter": {"publishedAfter": "2024-05-01T00:00:00"}}),
        (FILTERED, {"filter": {}}, {"filter": {"publishedBefore": "0999-01-01T00:00:00Z"}}),
        (SEARCH, {"search": "zebra"}, {"search": ["zebra"]}),
    ],
)
async def test_invalid_variables(
    paths: Paths, desk: Desk, query: str, good: dict[str, Any], bad: dict[str, Any]
) -> None:
    await paths.same(query, good)

    assert await paths.refused(query, bad)


@pytest.mark.parametrize(
    ("limits", "query", "variables"),
    [
        (QueryLimits(max_query_depth=2), ARTICLE_BY_SLUG, {"slug": "twin-a"}),
        (QueryLimits(max_aliases=3), ALIASES, {"slug": "twin-a"}),
        (QueryLimits(max_query_cost=10), LIST_PAGE, None),
    ],
)
async def test_a_document_over_a_limit_is_never_answered(
    sessionmaker: SessionMaker,
    reader: RawReader,
    desk: Desk,
    limits: QueryLimits,
    query: str,
    variables: dict[str, Any] | None,
) -> None:
    # given: the regular path refuses the document whatever its variables
    schema = build_schema(limits)
    paths = Paths(schema, planner_of(schema), sessionmaker, reader)
    # when: admitted all the same
    paths.plan(query, None)
    # then
    assert paths.planned(query, None)
    assert await paths.refused(query, variables)


async def test_a_document_over_the_cost_limit(
    sessionmaker: SessionMaker, reader: RawReader, desk: Desk
) -> None:
    # given: a schema and compiled queries with a small cost limit
    limits = QueryLimits(max_query_cost=50)
    schema = build_schema(limits)
    paths = Paths(schema, planner_of(schema), sessionmaker, reader)
    await paths.same(COSTLY, {"first": 5})

    # when: the same document asks for more than the limit allows
    # then
    assert await paths.refused(COSTLY, {"first": 30}) == [
        "The query would cost 91 units; at most 50 are allowed (each field costs 1, times the"
        " page size, first/last or 20, of every list it is inside): ask for smaller pages or"
        " fewer fields"
    ]


# --- random selections -------------------------------------------------------------------

ARTICLE_LEAVES = [
    "__typename",
    "id",
    "slug",
    "title",
    "lead",
    "body",
    "bodyHtml",
    "status",
    "language",
    "publishedAt",
    "createdAt",
    "updatedAt",
    "version",
    "sourceName",
    "sourceUrl",
    "readingTimeMinutes",
]
AUTHOR_LEAVES = ["__typename", "id", "slug", "name", "bio", "avatarUrl"]
TAG_LEAVES = ["__typename", "id", "slug", "name"]
PAGE_INFO_LEAVES = ["__typename", "hasNextPage", "hasPreviousPage", "startCursor", "endCursor"]
SLUGS = [
    "pervaya-novost",
    "twin-a",
    "twin-b",
    "naviny",
    "old-slug",
    "new-slug",
    "shared",
    "zebra",
    "draft",
    "scheduled",
    "archived",
    "nope",
]
# A type to select from: its name, its leaf fields and its object fields' shapes.
Shape = tuple[str, list[str], dict[str, "Shape"]]
AUTHOR: Shape = ("Author", AUTHOR_LEAVES, {})
TAG: Shape = ("Tag", TAG_LEAVES, {})
ARTICLE: Shape = ("Article", ARTICLE_LEAVES, {"authors": AUTHOR, "tags": TAG})
CONNECTION: Shape = (
    "ArticleConnection",
    ["__typename"],
    {
        "nodes": ARTICLE,
        "edges": ("ArticleEdge", ["__typename", "cursor"], {"node": ARTICLE}),
        "pageInfo": ("PageInfo", PAGE_INFO_LEAVES, {}),
    },
)
WORDS = ["zebra", "crossing", "twin", "новость", "Минска", "article", "apple", "nothing"]


@dataclass
class RandomDocument:
    """A random plannable document: its roots, variables and fragment definitions."""

    rng: random.Random
    definitions: list[str]
    variables: dict[str, Any]
    fragments: list[str]

    def selection(self, shape: Shape) -> str:
        """Some of the fields in random order: aliased, twice, in fragments."""
        type_name, leaves, nested = shape
        rng = self.rng
        parts: list[str] = []
        for name in rng.sample(leaves, rng.randint(1, len(leaves))):
            alias = f"{rng.choice('xyz')}{len(parts)}: " if rng.random() < 0.25 else ""
            parts.append(f"{alias}{name}")
            if rng.random() < 0.1:
                parts.append(f"{alias}{name}")  # the same field twice: merged
        for name, inner_shape in nested.items():
            if rng.random() < 0.6:
                alias = f"n{len(parts)}: " if rng.random() < 0.25 else ""
                inner = self.selection(inner_shape)
                parts.insert(rng.randint(0, len(parts)), f"{alias}{name} {{ {inner} }}")
        if len(parts) > 1 and rng.random() < 0.3:
            # a run of them in an inline fragment, or in a named one
            i = rng.randint(0, len(parts) - 1)
            j = rng.randint(i + 1, len(parts))
            run = " ".join(parts[i:j])
            choice = rng.random()
            if choice < 0.3:
                wrapped = f"... {{ {run} }}"
            elif choice < 0.6:
                wrapped = f"... on {type_name} {{ {run} }}"
            else:
                name = f"F{len(self.fragments)}"
                self.fragments.append(f"fragment {name} on {type_name} {{ {run} }}")
                wrapped = f"...{name}"
            parts[i:j] = [wrapped]
        return " ".join(parts)

    def variable(self, name: str, type_: str, value: Any) -> str:
        self.definitions.append(f"${name}: {type_}")
        self.variables[name] = value
        return f"${name}"

    def root(self, i: int) -> str:
        rng = self.rng
        alias = f"r{i}: " if i or rng.random() < 0.5 else ""
        if rng.random() < 0.35:
            slug = self.variable(f"s{i}", "String!", rng.choice(SLUGS))
            language = ""
            if rng.random() < 0.3:
                language = f", language: {rng.choice(['EN', 'RU', 'BE'])}"
            return f"{alias}article(slug: {slug}{language}) {{ {self.selection(ARTICLE)} }}"
        arguments = []
        if rng.random() < 0.7:
            arguments.append(f"orderBy: {rng.choice(list(ArticleOrder)).value}")
        if rng.random() < 0.7:
            size = rng.randint(0, 15)
            if rng.random() < 0.3:
                arguments.append(f"last: {self.variable(f'l{i}', 'Int', size)}")
            else:
                arguments.append(f"first: {self.variable(f'f{i}', 'Int', size)}")
        if rng.random() < 0.3:
            conditions = {
                "language": rng.choice(["EN", "RU", "BE"]),
                "author": rng.choice(["ann", "bob", "cat"]),
                "tag": rng.choice(["art", "economy", "politics", "odd"]),
                "sourceName": rng.choice(["BelTA", "Reuters"]),
                "publishedAfter": "2024-05-03T12:00:00.002+00:00",
            }
            chosen = dict(rng.sample(sorted(conditions.items()), rng.randint(1, 2)))
            arguments.append(f"filter: {self.variable(f'w{i}', 'ArticleFilter', chosen)}")
        if rng.random() < 0.2:
            words = " ".join(rng.sample(WORDS, rng.randint(1, 2)))
            arguments.append(f"search: {self.variable(f'q{i}', 'String', words)}")
        inner = self.selection(CONNECTION)
        listed = f"({', '.join(arguments)})" if arguments else ""
        return f"{alias}articles{listed} {{ {inner} }}"

    def document(self) -> str:
        roots = [self.root(i) for i in range(self.rng.randint(1, 3))]
        if self.rng.random() < 0.1:
            roots.insert(0, "__typename")
        header = f"({', '.join(self.definitions)})" if self.definitions else ""
        return " ".join([f"query Random{header} {{ {' '.join(roots)} }}", *self.fragments])


async def test_random_selections(paths: Paths, desk: Desk) -> None:
    rng = random.Random(20240601)
    compared = 0
    for _ in range(300):
        random_document = RandomDocument(rng, [], {}, [])
        query = random_document.document()
        variables = random_document.variables
        result = await paths.regular(query, variables)
        if result.errors:
            # over a limit (aliases, cost): even if it were admitted, no answer
            paths.plan(query, None)
            assert await paths.compiled_answer(query, variables) is None, query
        else:
            await paths.same(query, variables)
            compared += 1
    assert compared >= 250
