"""Office, author and tag reads answered from a plan equal graphql-core's, on both databases.

The planner builds an office's response from the declarations in ``schema/offices/types.py``
(columns, the address, phones, hours, exceptions and the derived ``hoursText``, ``isOpen``,
``nextChange``, ``jsonLd``), an author's and a tag's from theirs (an author's e-mail for
editors only), and reads the rows through the resolvers' own functions (``read_named``,
``read_listed``, ``total_of`` in ``schema/pagination.py``), so it needs no raw reader and
runs on SQLite too. Each test runs a document both ways, as the public and as an editor,
and compares the encoded answers and when they expire.
"""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import orjson
import pytest
import strawberry

from models.article import ArticleStatus
from models.db import SessionMaker
from models.opening_hours import DayHours
from models.services.offices import ExceptionSpec, create_office
from models.services.seed import OFFICE, PHONES, WORKDAY, load_seed
from models.viewer import ANONYMOUS, Role, Viewer
from schema.compiled import planner_of
from schema.context import Context
from schema.limits import QueryLimits
from schema.node import to_global_id
from schema.root import build_schema
from tests.factories import make_article, make_author, make_office, make_tag

pytestmark = pytest.mark.anyio

EDITOR = Viewer(Role.EDITOR, "desk")
# A Wednesday, 11:00 in Minsk: open, next change at lunch.
NOW = datetime(2024, 1, 10, 8, 0, tzinfo=UTC)
EVERY_FIELD = """
    __typename id slug name description email website timezone latitude longitude updatedAt
    address { __typename postalCode country region locality street formatted }
    phones { __typename kind label e164 display uri }
    hours { __typename weekday opens closes breaks { __typename start end label } }
    exceptions { __typename date closed opens closes breaks { start end label } note }
    hoursText isOpen nextChange jsonLd
"""

PLANNED = {
    "bench": """
        query Offices {
          offices(first: 30) {
            nodes {
              slug name address { formatted }
              phones { kind label display uri }
              hours { weekday opens closes breaks { start end label } }
              isOpen
            }
          }
        }
    """,
    "every field of one": f"""
        query Office($slug: String!) {{ office(slug: $slug) {{ {EVERY_FIELD} }} }}
    """,
    "every field of all": f"query {{ offices {{ nodes {{ {EVERY_FIELD} }} }} }}",
    "by id": "query Office($id: ID) { office(id: $id) { slug name } }",
    "missing": 'query { office(slug: "no-such-office") { slug } }',
    "edges and pages": """
        query Page($first: Int, $after: String) {
          __typename
          offices(first: $first, after: $after) {
            __typename
            edges { __typename cursor node { slug } }
            pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor }
          }
        }
    """,
    "backwards": "query { offices(last: 2) { nodes { slug } pageInfo { hasPreviousPage } } }",
    "asked about an instant": """
        query Office($slug: String!) {
          office(slug: $slug) {
            holiday: isOpen(at: "2024-03-08T10:00:00+03:00")
            short: nextChange(at: "2024-03-07T16:00:00+03:00")
            lunch: isOpen(at: "2024-01-10T13:30:00+03:00")
            isOpen nextChange
          }
        }
    """,
    "a count": "query { offices { totalCount nodes { slug } } }",
    "every field of an author": """
        query Author($author: String!) {
          author(slug: $author) {
            __typename id slug name bio avatarUrl createdAt updatedAt email
          }
        }
    """,
    "authors": """
        query {
          authors(first: 2) {
            totalCount
            nodes { id slug name email }
            pageInfo { hasNextPage endCursor }
          }
        }
    """,
    "a tag by id": "query Tag($tag: ID) { tag(id: $tag) { __typename id slug name } }",
    "tags": """
        query { tags(last: 2) { totalCount edges { cursor node { slug name } } } }
    """,
    "every catalog at once": """
        query {
          offices(first: 1) { nodes { slug } }
          authors { totalCount }
          tags { nodes { name } }
          nobody: author(slug: "nobody") { name }
        }
    """,
    "an instant in a variable": """
        query Office($slug: String!, $at: DateTime) {
          office(slug: $slug) { isOpen(at: $at) nextChange(at: $at) }
          offices { nodes { isOpen(at: $at) } }
        }
    """,
    "nodes by id": """
        query Nodes($id: ID!, $tag: ID!) {
          office: node(id: $id) { __typename id ... on Office { slug phones { e164 } isOpen } }
          tag: node(id: $tag) { id ...Named }
          all: nodes(ids: [$tag, $id, "VGFnOjk5OTk5", $tag]) {
            __typename ...Named ... on Node { id } ... on Office { hoursText }
          }
          missing: node(id: "QXV0aG9yOjk5OTk5") { id }
        }
        fragment Named on Tag { name slug }
    """,
    "written-out conditions": """
        query Office($slug: String!) {
          office(slug: $slug) {
            slug @include(if: true) name @skip(if: true)
            ... on Office @include(if: false) { description }
            ...Contact @skip(if: false)
          }
          offices @skip(if: true) { totalCount }
        }
        fragment Contact on Office { phones { e164 } }
    """,
    "fragments and aliases": """
        query Office($slug: String!) {
          first: office(slug: $slug) { ...Contact name }
          again: office(slug: $slug) { ... on Office { slug } contact: phones { e164 } }
        }
        fragment Contact on Office { name slug phones { e164 } address { ...Where } }
        fragment Where on Address { street locality }
    """,
}

PLANNED_ARTICLES = {
    "deep (bench)": """
        query Deep {
          authors(first: 20) {
            nodes {
              name slug
              articles(first: 10) { nodes { title slug publishedAt tags { name slug } } }
            }
          }
        }
    """,
    "an author's pages": """
        query Author($author: String!, $after: String) {
          author(slug: $author) {
            name
            first: articles(first: 2) {
              __typename
              edges { cursor node { __typename id title readingTimeMinutes } }
              pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
            }
            next: articles(first: 2, after: $after) { nodes { slug authors { name } } }
            all: articles { nodes { slug status language createdAt updatedAt version } }
          }
        }
    """,
    "one field name, two pages of the same objects": """
        query {
          authors {
            nodes { slug articles { nodes { slug } } }
            edges { node { articles(first: 1) { nodes { slug } } } }
          }
        }
    """,
    "a tag's articles, by id too": """
        query Tag($tag: ID!) {
          tag(id: $tag) { articles(first: 3) { nodes { title authors { slug name email } } } }
          node(id: $tag) { ... on Tag { name articles { nodes { slug tags { slug } } } } }
          tags { nodes { slug articles(first: 1) { nodes { slug } } } }
        }
    """,
    "the news list (bench)": """
        query ListPage {
          articles(first: 20) { nodes { title slug lead publishedAt authors { name } } }
        }
    """,
    "every column of a page": """
        query Page($first: Int, $after: String) {
          articles(first: $first, after: $after, orderBy: TITLE_ASC) {
            totalCount
            edges {
              cursor
              node {
                __typename id slug title lead body bodyHtml status language publishedAt
                createdAt updatedAt version sourceName sourceUrl readingTimeMinutes
                authors { id name } tags { __typename id slug }
              }
            }
            pageInfo { hasNextPage endCursor }
          }
        }
    """,
    "filtered and searched": """
        query {
          tagged: articles(filter: {tag: "culture"}, last: 2) { nodes { title } }
          found: articles(search: "word") { totalCount nodes { slug } }
          drafts: articles(filter: {status: DRAFT}) { nodes { title status } }
        }
    """,
    "one article": """
        query {
          article(slug: "article-does-not-exist") { title }
          two: article(slug: "navina-2") { ...Read jsonLd }
          draft: article(slug: "draft") { ...Read }
          a: articles(first: 1) { nodes { id } }
        }
        fragment Read on Article { title authors { name } tags { name } readingTimeMinutes }
    """,
    "an author's article count": """
        query Author($author: String!) {
          author(slug: $author) { articles { totalCount } }
          authors { nodes { slug articles(first: 1) { totalCount nodes { slug } } } }
        }
    """,
}
PLANNED.update(PLANNED_ARTICLES)

# Not planned: graphql-core answers, the same as ever.
DECLINED = {
    "an article's corrections": "query { articles { nodes { corrections { note } } } }",
    "an article's authors' articles": """
        query { articles { nodes { authors { articles { nodes { slug } } } } } }
    """,
}


@pytest.fixture
async def offices(sessionmaker: SessionMaker) -> dict[str, Any]:
    """The seed's office, one with a holiday and a short day, one with no phones or hours."""
    async with sessionmaker() as session:
        await load_seed(session)
    data = OFFICE.model_copy(update={"slug": "kopyl-with-holidays", "name": "Копыль (праздники)"})
    short = DayHours(time(8, 30), time(16, 30), WORKDAY.breaks)
    async with sessionmaker() as session:
        holidays = await create_office(
            session,
            data=data,
            phones=PHONES,
            weekly={day: WORKDAY for day in range(1, 6)},
            exceptions=[
                ExceptionSpec(date(2024, 3, 8), None, "Women's Day"),
                ExceptionSpec(date(2024, 3, 7), short, 'Pre-holiday "short" day'),
            ],
        )
    for n in range(3):
        await make_office(sessionmaker, name=f"Office {n}")
    iryna = await make_author(sessionmaker, "Ірына Лук'янава", slug="iryna", avatar_url="/a/i.jpg")
    andrei = await make_author(sessionmaker, "Андрэй", slug="andrei", email=None)
    await make_author(sessionmaker, 'Zoë "Z" </script>', slug="zoe", bio="Line\nbreak")
    tags = [
        await make_tag(sessionmaker, name, slug=slug)
        for name, slug in (("Эканоміка", "economy"), ("Culture", "culture"), ("Спорт", "sport"))
    ]
    tag = tags[-1]
    await _articles(sessionmaker, [iryna, andrei], tags)
    assert holidays.id is not None and tag.id is not None
    return {
        "slug": "kopyl-with-holidays",
        "id": to_global_id("Office", holidays.id),
        "first": 2,
        "author": "iryna",
        "at": "2024-03-08T10:00:00+03:00",
        "tag": to_global_id("Tag", tag.id),
    }


async def _articles(sessionmaker: SessionMaker, authors: list[Any], tags: list[Any]) -> None:
    """Articles by both authors in turn, some with two, some with none; a draft, one scheduled
    after NOW and one published at the same instant as another (cursors break the tie)."""
    for n in range(7):
        await make_article(
            sessionmaker,
            f"Навіна {n} <b>&</b>",
            published_at=NOW - timedelta(days=n // 2, hours=n % 2 * 0),
            authors=[authors[n % 2], authors[(n + 1) % 2]][: 1 + n % 3 // 2],
            tags=tags[: n % 3],
            lead="Lead " * n,
            body="Word " * (n * 150),
            slug=f"navina-{n}",
        )
    await make_article(
        sessionmaker, "Draft", status=ArticleStatus.DRAFT, authors=authors[:1], slug="draft"
    )
    await make_article(
        sessionmaker, "Later", published_at=NOW + timedelta(hours=1), authors=authors, tags=tags
    )


class TwoPaths:
    def __init__(self, sessionmaker: SessionMaker) -> None:
        self.schema: strawberry.Schema = build_schema(QueryLimits())
        self.sessionmaker = sessionmaker

    async def run(
        self, query: str, variables: dict[str, Any], planned: bool, viewer: Viewer = ANONYMOUS
    ) -> Context:
        context = Context(sessionmaker=self.sessionmaker, now=NOW, planned=planned, viewer=viewer)
        result = await self.schema.execute(query, variable_values=variables, context_value=context)
        assert result.errors is None, result.errors
        context.answer = orjson.dumps({"data": result.data})  # type: ignore[attr-defined]
        return context

    async def both(
        self, query: str, variables: dict[str, Any], viewer: Viewer = ANONYMOUS
    ) -> tuple[Context, Context]:
        regular = await self.run(query, variables, planned=False, viewer=viewer)
        planned = await self.run(query, variables, planned=True, viewer=viewer)
        assert not regular.answered_by_plan
        return regular, planned


def variables_for(query: str, given: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in given.items() if f"${name}" in query}


@pytest.mark.parametrize("viewer", [ANONYMOUS, EDITOR], ids=["public", "editor"])
@pytest.mark.parametrize("name", PLANNED)
async def test_the_plan_answers_what_graphql_core_answers(sessionmaker, offices, name, viewer):
    # given
    paths = TwoPaths(sessionmaker)
    query = PLANNED[name]

    # when
    regular, planned = await paths.both(query, variables_for(query, offices), viewer)

    # then
    assert planned.answered_by_plan
    assert planned.answer.decode() == regular.answer.decode()  # type: ignore[attr-defined]
    assert planned.expires_at == regular.expires_at


async def test_the_page_after_a_cursor_is_the_same(sessionmaker, offices):
    # given
    paths = TwoPaths(sessionmaker)
    query = PLANNED["edges and pages"]
    first, _ = await paths.both(query, {"first": 2})
    cursor = orjson.loads(first.answer)["data"]["offices"]["pageInfo"]["endCursor"]  # type: ignore[attr-defined]

    # when
    regular, planned = await paths.both(query, {"first": 2, "after": cursor})

    # then
    assert planned.answered_by_plan
    assert planned.answer == regular.answer  # type: ignore[attr-defined]
    assert orjson.loads(planned.answer)["data"]["offices"]["pageInfo"]["hasPreviousPage"]  # type: ignore[attr-defined]


async def test_an_authors_email_is_planned_for_editors_only(sessionmaker, offices):
    # given
    paths = TwoPaths(sessionmaker)
    query = 'query { author(slug: "iryna") { email } }'

    # when
    public = await paths.run(query, {}, planned=True)
    editor = await paths.run(query, {}, planned=True, viewer=EDITOR)

    # then
    assert public.answered_by_plan and editor.answered_by_plan
    assert orjson.loads(public.answer)["data"]["author"]["email"] is None  # type: ignore[attr-defined]
    assert orjson.loads(editor.answer)["data"]["author"]["email"].endswith("@example.by")  # type: ignore[attr-defined]


CONDITIONS = """
    query Office($slug: String!, $phones: Boolean = true, $brief: Boolean!) {
      office(slug: $slug) {
        slug
        phones @include(if: $phones) { e164 }
        ... on Office @skip(if: $brief) { name hoursText phones { label } }
        ...Where @include(if: $phones) @skip(if: $brief)
      }
    }
    fragment Where on Office { address { locality } }
"""


@pytest.mark.parametrize(
    "values",
    [
        {"brief": True},
        {"brief": False},
        {"phones": False, "brief": False},
        {"phones": False, "brief": True},
    ],
)
async def test_conditions_on_variables_are_planned_per_value(sessionmaker, offices, values):
    # given: the document planned before, with other values
    paths = TwoPaths(sessionmaker)
    slug = {"slug": offices["slug"]}
    await paths.both(CONDITIONS, {**slug, "brief": not values["brief"]})

    # when
    regular, planned = await paths.both(CONDITIONS, {**slug, **values})

    # then
    assert planned.answered_by_plan
    assert planned.answer.decode() == regular.answer.decode()  # type: ignore[attr-defined]


AT = "query Office($slug: String!, $at: DateTime) { office(slug: $slug) { isOpen(at: $at) } }"


@pytest.mark.parametrize(
    "at", ["2024-03-08T10:00:00+03:00", "2024-01-10T13:30:00+03:00", "2024-01-10T10:00:00Z", None]
)
async def test_arguments_from_variables_are_planned_per_value(sessionmaker, offices, at):
    # given: the document planned before, for another instant
    paths = TwoPaths(sessionmaker)
    slug = {"slug": offices["slug"]}
    await paths.both(AT, {**slug, "at": "2024-01-11T09:00:00+03:00"})

    # when
    regular, planned = await paths.both(AT, {**slug, "at": at})

    # then
    assert planned.answered_by_plan
    assert planned.answer.decode() == regular.answer.decode()  # type: ignore[attr-defined]
    assert planned.expires_at == regular.expires_at


@pytest.mark.parametrize("name", DECLINED)
async def test_what_the_plan_does_not_cover_graphql_core_answers(sessionmaker, offices, name):
    # given
    paths = TwoPaths(sessionmaker)
    query = DECLINED[name]
    variables = variables_for(query, offices)

    # when
    regular, planned = await paths.both(query, variables)

    # then
    assert not planned.answered_by_plan
    assert planned.answer == regular.answer  # type: ignore[attr-defined]
    assert planner_of(paths.schema).known  # it was looked at, and declined


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ('query { office(id: "T2ZmaWNlOjE=", slug: "x") { slug } }', {}),  # both: fine
        ("query { office { slug } }", {}),  # neither: an error
        ('query { office(id: "not an id") { slug } }', {}),
        ("query Q($c: Boolean!) { offices { nodes { slug @include(if: $c) } } }", {}),
        (AT, {"slug": "kopyl-with-holidays", "at": "2024-01-10T10:00"}),  # no offset
        ('query { node(id: "garbage") { id } }', {}),
        ("query Q($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ["VGFnOjE="] * 101}),
        ("query Q($c: Boolean!) { offices { nodes { slug @include(if: $c) } } }", {"c": "x"}),
        ('query { office(slug: "kopyl-with-holidays") { isOpen(at: "2024-01-10T10:00") } }', {}),
        ("query { offices(first: -1) { nodes { slug } } }", {}),
        ('query { offices(after: "garbage") { nodes { slug } } }', {}),
    ],
)
async def test_errors_are_graphql_cores(sessionmaker, offices, query, variables):
    # given
    schema = build_schema(QueryLimits())

    # when
    results = []
    for planned in (False, True):
        context = Context(sessionmaker=sessionmaker, now=NOW, planned=planned)
        result = await schema.execute(query, variable_values=variables, context_value=context)
        results.append((result.data, [e.formatted for e in result.errors or ()]))
        assert not context.answered_by_plan or not result.errors

    # then
    assert results[0] == results[1]
