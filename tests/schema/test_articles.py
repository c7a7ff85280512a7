"""Reading articles, authors and tags through GraphQL over HTTP, as an anonymous caller."""

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import ANY

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from models import Article, Language, Role, Viewer
from models.db import SessionMaker
from schema.context import Context
from schema.node import to_global_id
from schema.root import build_schema
from tests.factories import make_article, make_author, make_office, make_tag

pytestmark = pytest.mark.anyio

MARCH_1 = datetime(2024, 3, 1, tzinfo=UTC)

ARTICLE_BY_ID = """
query ArticleById($id: ID!) {
  article(id: $id) {
    id slug title lead body bodyHtml status language publishedAt updatedAt version
    sourceName sourceUrl readingTimeMinutes
    authors { id slug name email }
    tags { id slug name }
    translations { id slug language title }
  }
}
"""

ARTICLE_BY_SLUG = """
query ArticleBySlug($slug: String!, $language: Language) {
  article(slug: $slug, language: $language) { slug language title }
}
"""

ARTICLE_WITHOUT_KEY = "query ArticleWithoutKey { article { id } }"

READING_TIME = """
query ReadingTime($slug: String!) { article(slug: $slug) { readingTimeMinutes } }
"""

ARTICLES = """
query Articles($filter: ArticleFilter, $search: String, $orderBy: ArticleOrder) {
  articles(filter: $filter, search: $search, orderBy: $orderBy) {
    nodes { slug }
    totalCount
  }
}
"""

AUTHORS = """
query Authors($first: Int, $after: String) {
  authors(first: $first, after: $after) {
    nodes { slug name email }
    pageInfo { hasNextPage hasPreviousPage endCursor }
    totalCount
  }
}
"""

TAGS = """
query Tags($first: Int, $after: String) {
  tags(first: $first, after: $after) {
    nodes { slug name }
    pageInfo { hasNextPage hasPreviousPage endCursor }
    totalCount
  }
}
"""

AUTHOR_BY_SLUG = """
query AuthorBySlug($slug: String!) { author(slug: $slug) { id slug name bio email } }
"""

AUTHOR_BY_ID = """
query AuthorById($id: ID!) { author(id: $id) { id slug name } }
"""

TAG_BY_SLUG = """
query TagBySlug($slug: String!) { tag(slug: $slug) { id slug name } }
"""

AUTHOR_ARTICLES = """
query AuthorArticles($slug: String!, $first: Int, $after: String) {
  parent: author(slug: $slug) {
    articles(first: $first, after: $after) {
      edges { cursor node { slug } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      totalCount
    }
  }
}
"""

TAG_ARTICLES = """
query TagArticles($slug: String!, $first: Int, $after: String) {
  parent: tag(slug: $slug) {
    articles(first: $first, after: $after) {
      edges { cursor node { slug } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      totalCount
    }
  }
}
"""

NODE = """
query Node($id: ID!) {
  node(id: $id) {
    __typename
    id
    ... on Article { slug }
    ... on Author { slug }
    ... on Tag { slug }
    ... on Office { slug }
  }
}
"""


async def graphql(client: httpx.AsyncClient, query: str, **variables: Any) -> Any:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    return response.json()


def without_locations(body: Any) -> Any:
    """The response with each error's ``locations`` dropped: they only echo the document."""
    if "errors" not in body:
        return body
    errors = [{k: v for k, v in error.items() if k != "locations"} for error in body["errors"]]
    return {**body, "errors": errors}


def assert_no_stack_trace(body: Any) -> None:
    text = json.dumps(body)
    assert "Traceback" not in text
    assert 'File "' not in text


def iso(moment: datetime) -> str:
    return moment.isoformat()


def raw_id(text: str) -> str:
    """A global ID built by hand, for IDs the API would never hand out."""
    return base64.urlsafe_b64encode(text.encode()).decode()


async def set_updated_at(engine: AsyncEngine, article: Article, moment: datetime) -> None:
    # No service edits updated_at directly; tests pin it to get a deterministic order.
    async with engine.begin() as connection:
        await connection.execute(
            sa.update(Article).where(sa.column("id") == article.id).values(updated_at=moment)
        )


# --- one article -------------------------------------------------------------------------------

UNSAFE_BODY = (
    "Parliament **approved** the budget.\n"
    "\n"
    "<script>alert('body')</script>\n"
    "\n"
    '<img src="https://example.by/chart.png" alt="Chart" onerror="alert(\'img\')">\n'
    "\n"
    "[Details](https://example.by/budget) or <a href=\"javascript:alert('a')\">click</a>.\n"
)

SANITISED_HTML = (
    "<p>Parliament <strong>approved</strong> the budget.</p>\n"
    "\n"
    '<img src="https://example.by/chart.png" alt="Chart">\n'
    '<p><a href="https://example.by/budget" rel="noopener noreferrer">Details</a>'
    ' or <a rel="noopener noreferrer">click</a>.</p>\n'
)


async def test_article_by_id_has_every_field(client, sessionmaker):
    # given: a byline in neither id nor name order, tags created out of name order,
    # translations into the two other languages, and a body full of unsafe HTML
    andrei = await make_author(sessionmaker, "Andrei Bely", slug="andrei")
    zoya = await make_author(sessionmaker, "Zoya Ulasava", slug="zoya")
    economy = await make_tag(sessionmaker, "Economy", slug="economy")
    budget = await make_tag(sessionmaker, "Budget", slug="budget")
    article = await make_article(
        sessionmaker,
        "Budget approved",
        slug="budget-approved",
        lead="The 2025 budget passed.",
        body=UNSAFE_BODY,
        language=Language.BE,
        published_at=MARCH_1,
        source_name="BelTA",
        source_url="https://belta.by/budget",
        authors=[zoya, andrei],
        tags=[economy, budget],
        translation_group="g1",
    )
    english = await make_article(
        sessionmaker, "Budget approved (en)", slug="budget-en", translation_group="g1"
    )
    russian = await make_article(
        sessionmaker,
        "Бюджет принят",
        slug="budget-ru",
        language=Language.RU,
        translation_group="g1",
    )

    # when
    body = await graphql(client, ARTICLE_BY_ID, id=to_global_id("Article", article.id))

    # then
    assert body == {
        "data": {
            "article": {
                "id": to_global_id("Article", article.id),
                "slug": "budget-approved",
                "title": "Budget approved",
                "lead": "The 2025 budget passed.",
                "body": UNSAFE_BODY,
                "bodyHtml": SANITISED_HTML,
                "status": "PUBLISHED",
                "language": "BE",
                "publishedAt": "2024-03-01T00:00:00+00:00",
                "updatedAt": iso(article.updated_at),
                "version": 1,
                "sourceName": "BelTA",
                "sourceUrl": "https://belta.by/budget",
                "readingTimeMinutes": 1,
                "authors": [
                    {
                        "id": to_global_id("Author", zoya.id),
                        "slug": "zoya",
                        "name": "Zoya Ulasava",
                        "email": None,
                    },
                    {
                        "id": to_global_id("Author", andrei.id),
                        "slug": "andrei",
                        "name": "Andrei Bely",
                        "email": None,
                    },
                ],
                "tags": [
                    {"id": to_global_id("Tag", budget.id), "slug": "budget", "name": "Budget"},
                    {"id": to_global_id("Tag", economy.id), "slug": "economy", "name": "Economy"},
                ],
                "translations": [
                    {
                        "id": to_global_id("Article", english.id),
                        "slug": "budget-en",
                        "language": "EN",
                        "title": "Budget approved (en)",
                    },
                    {
                        "id": to_global_id("Article", russian.id),
                        "slug": "budget-ru",
                        "language": "RU",
                        "title": "Бюджет принят",
                    },
                ],
            }
        }
    }


async def test_body_html_drops_scripts_handlers_and_javascript_links(client, sessionmaker):
    # given
    article = await make_article(sessionmaker, body=UNSAFE_BODY)

    # when
    body = await graphql(client, ARTICLE_BY_ID, id=to_global_id("Article", article.id))

    # then: spelled out on top of the exact HTML above, so the intent survives a renderer upgrade
    html = body["data"]["article"]["bodyHtml"]
    assert "<script" not in html
    assert "alert(" not in html
    assert "onerror" not in html
    assert "javascript:" not in html
    assert '<a href="https://example.by/budget" rel="noopener noreferrer">Details</a>' in html


async def test_article_without_translations_lists_none(client, sessionmaker):
    # given: a group of one
    article = await make_article(sessionmaker, translation_group="alone")

    # when
    body = await graphql(client, ARTICLE_BY_ID, id=to_global_id("Article", article.id))

    # then
    assert body["data"]["article"]["translations"] == []


READING_TIMES = {
    # (lead words, body words): minutes
    (0, 0): 1,
    (0, 1): 1,
    (0, 200): 1,
    (0, 201): 2,
    (1, 200): 2,
    (1, 400): 3,
}


async def test_reading_time_counts_lead_and_body_at_200_words_a_minute(client, sessionmaker):
    # given
    for lead_words, body_words in READING_TIMES:
        await make_article(
            sessionmaker,
            slug=f"timed-{lead_words}-{body_words}",
            lead=" ".join(["word"] * lead_words),
            body="word " * body_words,
        )

    # when
    got = {
        words: await graphql(client, READING_TIME, slug=f"timed-{words[0]}-{words[1]}")
        for words in READING_TIMES
    }

    # then
    assert got == {
        words: {"data": {"article": {"readingTimeMinutes": minutes}}}
        for words, minutes in READING_TIMES.items()
    }


async def test_article_by_slug_and_language(client, sessionmaker):
    # given: one slug in two languages
    await make_article(sessionmaker, "Budget", slug="budget", language=Language.EN)
    await make_article(sessionmaker, "Бюджэт", slug="budget", language=Language.BE)
    await make_article(sessionmaker, "Weather", slug="weather", language=Language.RU)

    # when
    belarusian = await graphql(client, ARTICLE_BY_SLUG, slug="budget", language="BE")
    english = await graphql(client, ARTICLE_BY_SLUG, slug="budget", language="EN")
    any_language = await graphql(client, ARTICLE_BY_SLUG, slug="weather")

    # then
    assert belarusian == {
        "data": {"article": {"slug": "budget", "language": "BE", "title": "Бюджэт"}}
    }
    assert english == {"data": {"article": {"slug": "budget", "language": "EN", "title": "Budget"}}}
    assert any_language == {
        "data": {"article": {"slug": "weather", "language": "RU", "title": "Weather"}}
    }


@pytest.mark.parametrize(
    "variables",
    [{"slug": "no-such-article"}, {"slug": "weather", "language": "EN"}],
    ids=["unknown-slug", "slug-in-another-language"],
)
async def test_unknown_article_is_null(client, sessionmaker, variables):
    # given
    await make_article(sessionmaker, slug="weather", language=Language.RU)

    # when
    body = await graphql(client, ARTICLE_BY_SLUG, **variables)

    # then
    assert body == {"data": {"article": None}}


async def test_article_needs_an_id_or_a_slug(client):
    # when
    body = await graphql(client, ARTICLE_WITHOUT_KEY)

    # then
    assert without_locations(body) == {
        "data": {"article": None},
        "errors": [
            {
                "message": "Pass id or slug",
                "path": ["article"],
                "extensions": {"code": "BAD_USER_INPUT", "field": "id"},
            }
        ],
    }


async def test_unknown_language_enum_is_a_clear_error(client):
    # when
    body = await graphql(client, ARTICLE_BY_SLUG, slug="budget", language="XX")

    # then
    assert without_locations(body) == {
        "data": None,
        "errors": [
            {
                "message": "Variable '$language' has invalid value: "
                "Value 'XX' does not exist in 'Language' enum."
            }
        ],
    }
    assert_no_stack_trace(body)


async def test_unknown_language_in_a_filter_is_a_clear_error(client):
    # when
    body = await graphql(client, ARTICLES, filter={"language": "XX"})

    # then
    assert without_locations(body) == {
        "data": None,
        "errors": [
            {
                "message": "Variable '$filter' has invalid value at .language: "
                "Value 'XX' does not exist in 'Language' enum."
            }
        ],
    }
    assert_no_stack_trace(body)


# --- filters, orders, search -------------------------------------------------------------------


async def given_filterable_articles(sessionmaker: SessionMaker) -> None:
    anna = await make_author(sessionmaker, slug="anna")
    boris = await make_author(sessionmaker, slug="boris")
    economy = await make_tag(sessionmaker, slug="economy")
    sport = await make_tag(sessionmaker, slug="sport")
    day = timedelta(days=1)
    await make_article(
        sessionmaker, slug="a1", language=Language.EN, tags=[economy], authors=[anna],
        source_name="BelTA", published_at=MARCH_1,
    )  # fmt: skip
    await make_article(
        sessionmaker, slug="a2", language=Language.RU, tags=[economy, sport], authors=[boris],
        source_name="Sputnik", published_at=MARCH_1 + day,
    )  # fmt: skip
    await make_article(
        sessionmaker, slug="a3", language=Language.BE, tags=[sport], authors=[anna, boris],
        published_at=MARCH_1 + 2 * day,
    )  # fmt: skip
    await make_article(
        sessionmaker, slug="a4", language=Language.EN, source_name="BelTA",
        published_at=MARCH_1 + 3 * day,
    )  # fmt: skip


FILTERS: list[tuple[dict[str, str], list[str]]] = [
    ({}, ["a4", "a3", "a2", "a1"]),
    ({"language": "EN"}, ["a4", "a1"]),
    ({"language": "BE"}, ["a3"]),
    ({"tag": "economy"}, ["a2", "a1"]),
    ({"tag": "sport"}, ["a3", "a2"]),
    ({"tag": "no-such-tag"}, []),
    ({"author": "anna"}, ["a3", "a1"]),
    ({"author": "boris"}, ["a3", "a2"]),
    ({"author": "no-such-author"}, []),
    ({"sourceName": "BelTA"}, ["a4", "a1"]),
    ({"sourceName": "belta"}, []),
    # publishedAfter is inclusive, publishedBefore exclusive; offsets are honoured
    ({"publishedAfter": "2024-03-02T00:00:00+00:00"}, ["a4", "a3", "a2"]),
    ({"publishedAfter": "2024-03-02T03:00:00+03:00"}, ["a4", "a3", "a2"]),
    ({"publishedAfter": "2024-03-02T00:00:01+00:00"}, ["a4", "a3"]),
    ({"publishedBefore": "2024-03-03T00:00:00+00:00"}, ["a2", "a1"]),
    ({"publishedBefore": "2024-03-03T00:00:01+00:00"}, ["a3", "a2", "a1"]),
    (
        {
            "publishedAfter": "2024-03-02T00:00:00+00:00",
            "publishedBefore": "2024-03-04T00:00:00+00:00",
        },
        ["a3", "a2"],
    ),
    ({"language": "EN", "sourceName": "BelTA", "tag": "economy"}, ["a1"]),
    ({"author": "anna", "tag": "sport"}, ["a3"]),
]


def article_list(slugs: list[str]) -> Any:
    return {"data": {"articles": {"nodes": [{"slug": s} for s in slugs], "totalCount": len(slugs)}}}


async def test_filters(client, sessionmaker):
    # given
    await given_filterable_articles(sessionmaker)

    # when
    got = {json.dumps(flt): await graphql(client, ARTICLES, filter=flt) for flt, _ in FILTERS}

    # then
    assert got == {json.dumps(flt): article_list(expected) for flt, expected in FILTERS}


async def test_published_at_filter_without_utc_offset_is_a_clear_error(client, sessionmaker):
    # given
    await given_filterable_articles(sessionmaker)

    # when: a naive datetime, which cannot be compared with the stored UTC instants
    body = await graphql(client, ARTICLES, filter={"publishedAfter": "2024-03-02T00:00:00"})

    # then: the client's mistake, told as such (not an internal error)
    assert body["data"] is None
    assert len(body["errors"]) == 1
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "offset" in body["errors"][0]["message"]
    assert_no_stack_trace(body)


ORDERS = {
    None: ["d", "b", "c", "a"],
    "PUBLISHED_AT_DESC": ["d", "b", "c", "a"],
    "PUBLISHED_AT_ASC": ["a", "c", "b", "d"],
    "TITLE_ASC": ["b", "d", "a", "c"],
    "UPDATED_AT_DESC": ["c", "a", "d", "b"],
}


async def test_orders(client, sessionmaker, engine):
    # given: published, title and updated orders that all disagree
    day = timedelta(days=1)
    rows = [
        ("a", "Charlie", MARCH_1, MARCH_1 + 10 * day),
        ("b", "Alpha", MARCH_1 + 2 * day, MARCH_1 + 8 * day),
        ("c", "Delta", MARCH_1 + 1 * day, MARCH_1 + 12 * day),
        ("d", "Bravo", MARCH_1 + 3 * day, MARCH_1 + 9 * day),
    ]
    for slug, title, published_at, updated_at in rows:
        article = await make_article(sessionmaker, title, slug=slug, published_at=published_at)
        await set_updated_at(engine, article, updated_at)

    # when: None leaves orderBy out, for the default
    got = {
        order: await graphql(client, ARTICLES, **({"orderBy": order} if order else {}))
        for order in ORDERS
    }

    # then
    assert got == {order: article_list(expected) for order, expected in ORDERS.items()}


async def given_searchable_articles(sessionmaker: SessionMaker) -> None:
    day = timedelta(days=1)
    await make_article(
        sessionmaker, "City budget approved", slug="s1", lead="The council met on Monday.",
        body="Minsk plans new parks.", published_at=MARCH_1,
    )  # fmt: skip
    await make_article(
        sessionmaker, "Weather report", slug="s2", lead="Rain in Minsk.",
        body="Umbrellas advised.", published_at=MARCH_1 + day,
    )  # fmt: skip
    await make_article(
        sessionmaker, "Бюджет Минска утверждён", slug="s3", lead="Совет собрался в понедельник.",
        body="Новые парки появятся летом.", language=Language.RU, published_at=MARCH_1 + 2 * day,
    )  # fmt: skip
    await make_article(
        sessionmaker, "Sport news", slug="s4", lead="Dinamo won.",
        body="Fans celebrate the budget surplus.", published_at=MARCH_1 + 3 * day,
    )  # fmt: skip


SEARCHES = {
    "budget": ["s4", "s1"],
    "minsk budget": ["s1"],  # every word must match, in any field
    "BUDGET Minsk": ["s1"],
    "minsk, budget!": ["s1"],
    "council": ["s1"],  # lead only
    "umbrellas": ["s2"],  # body only
    "weather minsk umbrellas": ["s2"],  # title, lead and body together
    "budget london": [],
    "london": [],
    "?!...": [],  # punctuation only: no words, so nothing matches
    "Минска": ["s3"],
    "МИНСКА бюджет": ["s3"],
    "совет парки": ["s3"],
    "минска budget": [],
    "": ["s4", "s3", "s2", "s1"],  # no search at all
}


async def test_search(client, sessionmaker):
    # given
    await given_searchable_articles(sessionmaker)

    # when
    got = {search: await graphql(client, ARTICLES, search=search) for search in SEARCHES}

    # then
    assert got == {search: article_list(expected) for search, expected in SEARCHES.items()}


async def test_search_with_a_filter(client, sessionmaker):
    # given
    await given_searchable_articles(sessionmaker)

    # when
    english = await graphql(client, ARTICLES, search="budget", filter={"language": "EN"})
    russian = await graphql(client, ARTICLES, search="budget", filter={"language": "RU"})

    # then
    assert english == {
        "data": {"articles": {"nodes": [{"slug": "s4"}, {"slug": "s1"}], "totalCount": 2}}
    }
    assert russian == {"data": {"articles": {"nodes": [], "totalCount": 0}}}


async def test_a_search_longer_than_a_search_box_is_refused_as_input(client, sessionmaker):
    # given
    await given_searchable_articles(sessionmaker)

    # when
    longest = await graphql(client, ARTICLES, search="budget " + "x" * 493)
    too_long = await graphql(client, ARTICLES, search="budget " + "x" * 494)

    # then
    assert longest == {"data": {"articles": {"nodes": [], "totalCount": 0}}}
    assert too_long["data"] is None
    assert [(e["message"], e["extensions"]["code"]) for e in too_long["errors"]] == [
        ("The search text is longer than 500 characters", "BAD_USER_INPUT")
    ]


# --- authors and tags --------------------------------------------------------------------------


async def test_authors_connection_is_alphabetical_and_hides_email(client, sessionmaker):
    # given
    for slug, name in [("vera", "Vera"), ("anna", "Anna"), ("boris", "Boris")]:
        await make_author(sessionmaker, name, slug=slug)

    # when
    first_page = await graphql(client, AUTHORS, first=2)
    after = first_page["data"]["authors"]["pageInfo"]["endCursor"]
    second_page = await graphql(client, AUTHORS, first=2, after=after)

    # then
    assert first_page == {
        "data": {
            "authors": {
                "nodes": [
                    {"slug": "anna", "name": "Anna", "email": None},
                    {"slug": "boris", "name": "Boris", "email": None},
                ],
                "pageInfo": {"hasNextPage": True, "hasPreviousPage": False, "endCursor": ANY},
                "totalCount": 3,
            }
        }
    }
    assert second_page == {
        "data": {
            "authors": {
                "nodes": [{"slug": "vera", "name": "Vera", "email": None}],
                "pageInfo": {"hasNextPage": False, "hasPreviousPage": True, "endCursor": ANY},
                "totalCount": 3,
            }
        }
    }


async def test_tags_connection_is_alphabetical(client, sessionmaker):
    # given
    for slug, name in [("sport", "Sport"), ("economy", "Economy"), ("culture", "Culture")]:
        await make_tag(sessionmaker, name, slug=slug)

    # when
    first_page = await graphql(client, TAGS, first=2)
    after = first_page["data"]["tags"]["pageInfo"]["endCursor"]
    second_page = await graphql(client, TAGS, first=2, after=after)

    # then
    assert first_page == {
        "data": {
            "tags": {
                "nodes": [
                    {"slug": "culture", "name": "Culture"},
                    {"slug": "economy", "name": "Economy"},
                ],
                "pageInfo": {"hasNextPage": True, "hasPreviousPage": False, "endCursor": ANY},
                "totalCount": 3,
            }
        }
    }
    assert second_page == {
        "data": {
            "tags": {
                "nodes": [{"slug": "sport", "name": "Sport"}],
                "pageInfo": {"hasNextPage": False, "hasPreviousPage": True, "endCursor": ANY},
                "totalCount": 3,
            }
        }
    }


async def test_tag_by_slug(client, sessionmaker):
    # given
    tag = await make_tag(sessionmaker, "Economy", slug="economy")

    # when
    found = await graphql(client, TAG_BY_SLUG, slug="economy")
    missing = await graphql(client, TAG_BY_SLUG, slug="no-such-tag")

    # then
    assert found == {
        "data": {"tag": {"id": to_global_id("Tag", tag.id), "slug": "economy", "name": "Economy"}}
    }
    assert missing == {"data": {"tag": None}}


async def test_author_by_slug_and_id_never_shows_email_to_the_public(client, sessionmaker):
    # given
    author = await make_author(
        sessionmaker, "Anna", slug="anna", bio="Economy desk.", email="anna@example.by"
    )

    # when
    by_slug = await graphql(client, AUTHOR_BY_SLUG, slug="anna")
    by_id = await graphql(client, AUTHOR_BY_ID, id=to_global_id("Author", author.id))
    missing = await graphql(client, AUTHOR_BY_SLUG, slug="no-such-author")

    # then
    author_id = to_global_id("Author", author.id)
    assert by_slug == {
        "data": {
            "author": {
                "id": author_id,
                "slug": "anna",
                "name": "Anna",
                "bio": "Economy desk.",
                "email": None,
            }
        }
    }
    assert by_id == {"data": {"author": {"id": author_id, "slug": "anna", "name": "Anna"}}}
    assert missing == {"data": {"author": None}}


async def test_editors_do_see_author_email(sessionmaker):
    # given: proof that the anonymous null above is a permission, not missing data
    await make_author(sessionmaker, "Anna", slug="anna", email="anna@example.by")
    context = Context(sessionmaker=sessionmaker, viewer=Viewer(Role.EDITOR, "desk"))

    # when
    result = await build_schema().execute(
        AUTHOR_BY_SLUG, variable_values={"slug": "anna"}, context_value=context
    )

    # then
    assert result.errors is None
    assert result.data is not None
    assert result.data["author"]["email"] == "anna@example.by"


@pytest.mark.parametrize("parent", ["author", "tag"])
async def test_articles_of_an_author_or_tag_page_newest_first(client, sessionmaker, parent):
    # given: five articles of the parent, one of somebody else
    author = await make_author(sessionmaker, slug="anna")
    tag = await make_tag(sessionmaker, slug="economy")
    for n in range(1, 6):
        await make_article(
            sessionmaker, slug=f"p{n}", authors=[author], tags=[tag],
            published_at=MARCH_1 + timedelta(days=n),
        )  # fmt: skip
    await make_article(sessionmaker, slug="other", published_at=MARCH_1 + timedelta(days=9))
    query, slug = (AUTHOR_ARTICLES, "anna") if parent == "author" else (TAG_ARTICLES, "economy")

    # when: walking pages of two
    pages, after = [], None
    for _ in range(3):
        body = await graphql(client, query, slug=slug, first=2, after=after)
        connection = body["data"]["parent"]["articles"]
        pages.append(connection)
        after = connection["pageInfo"]["endCursor"]

    # then
    assert [[edge["node"]["slug"] for edge in page["edges"]] for page in pages] == [
        ["p5", "p4"],
        ["p3", "p2"],
        ["p1"],
    ]
    assert [page["totalCount"] for page in pages] == [5, 5, 5]
    flags = [
        (page["pageInfo"]["hasPreviousPage"], page["pageInfo"]["hasNextPage"]) for page in pages
    ]
    assert flags == [(False, True), (True, True), (True, False)]
    for page in pages:
        cursors = [edge["cursor"] for edge in page["edges"]]
        assert page["pageInfo"]["startCursor"] == cursors[0]
        assert page["pageInfo"]["endCursor"] == cursors[-1]


async def test_articles_of_an_author_default_to_20(client, sessionmaker):
    # given
    author = await make_author(sessionmaker, slug="anna")
    for _ in range(21):
        await make_article(sessionmaker, authors=[author])

    # when
    body = await graphql(client, AUTHOR_ARTICLES, slug="anna")

    # then
    connection = body["data"]["parent"]["articles"]
    assert len(connection["edges"]) == 20
    assert connection["pageInfo"]["hasNextPage"] is True
    assert connection["totalCount"] == 21


# --- Relay node --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_name", "make"),
    [
        ("Article", make_article),
        ("Author", make_author),
        ("Tag", make_tag),
        ("Office", make_office),
    ],
)
async def test_node_resolves_each_type(client, sessionmaker, type_name, make):
    # given
    entity = await make(sessionmaker, slug="the-one")

    # when
    body = await graphql(client, NODE, id=to_global_id(type_name, entity.id))
    missing = await graphql(client, NODE, id=to_global_id(type_name, 999_999))

    # then
    assert body == {
        "data": {
            "node": {
                "__typename": type_name,
                "id": to_global_id(type_name, entity.id),
                "slug": "the-one",
            }
        }
    }
    assert missing == {"data": {"node": None}}


MALFORMED_IDS = [
    "not-an-id",
    raw_id("User:1"),
    raw_id("Article:abc"),
    raw_id("Article:"),
    raw_id("Article:-1"),
    raw_id("Article:²"),  # str.isdigit() says yes, int() says no
    raw_id("Article:99999999999"),  # beyond any primary key the database can hold (int4)
    "Пётр",
]


def id_error(bad_id: str, field: str) -> Any:
    return {
        "data": {field: None},
        "errors": [
            {
                "message": f"'{bad_id}' is not a valid ID",
                "path": [field],
                "extensions": {"code": "BAD_USER_INPUT", "field": "id"},
            }
        ],
    }


async def test_malformed_ids_are_clear_errors(client):
    # when
    by_node = {bad_id: await graphql(client, NODE, id=bad_id) for bad_id in MALFORMED_IDS}
    by_article = {
        bad_id: await graphql(client, ARTICLE_BY_ID, id=bad_id) for bad_id in MALFORMED_IDS
    }

    # then
    assert {k: without_locations(v) for k, v in by_node.items()} == {
        bad_id: id_error(bad_id, "node") for bad_id in MALFORMED_IDS
    }
    assert {k: without_locations(v) for k, v in by_article.items()} == {
        bad_id: id_error(bad_id, "article") for bad_id in MALFORMED_IDS
    }
    assert_no_stack_trace([by_node, by_article])


async def test_article_id_of_another_type_is_a_clear_error(client, sessionmaker):
    # given
    author = await make_author(sessionmaker)

    # when
    body = await graphql(client, ARTICLE_BY_ID, id=to_global_id("Author", author.id))

    # then
    assert without_locations(body) == {
        "data": {"article": None},
        "errors": [
            {
                "message": "ID is of type Author, expected Article",
                "path": ["article"],
                "extensions": {"code": "BAD_USER_INPUT", "field": "id"},
            }
        ],
    }
