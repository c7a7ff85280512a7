"""schema.org JSON-LD: ``Article.jsonLd`` (NewsArticle) and ``Office.jsonLd`` (GovernmentOffice).

There is no internet in the test run, so the vocabulary is encoded here: the types we emit must
be real schema.org types, and each object must carry the properties Google's structured-data
docs require or recommend (Article: developers.google.com/search/docs/appearance/structured-data
/article; LocalBusiness, of which GovernmentOffice is a subtype: .../local-business).
"""

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from types import SimpleNamespace
from typing import Any

import httpx
import orjson
import pytest

from models import Article, Author, Language, Role, Viewer
from models.article import ArticleCreate, ArticleStatus
from models.author import AuthorCreate
from models.office import Office, OfficeCreate, OfficeException, OfficeHours, OfficePhone
from models.opening_hours import DayHours, Interval
from models.services.offices import breaks_to_json
from models.services.seed import ARTICLE_SLUG, OFFICE, article_create, load_seed
from schema.context import Context
from schema.jsonld import government_office, news_article, open_intervals
from schema.node import to_global_id
from schema.root import build_schema
from tests.conftest import QueryCounter
from tests.factories import make_article, make_author, make_office

pytestmark = pytest.mark.anyio

# --- the vocabulary ---------------------------------------------------------------------------

SCHEMA_ORG_TYPES = frozenset(
    {
        "NewsArticle",
        "Person",
        "Organization",
        "GovernmentOffice",
        "PostalAddress",
        "ContactPoint",
        "GeoCoordinates",
        "OpeningHoursSpecification",
    }
)
DAYS_OF_WEEK = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# Google, Article: nothing is required; these are recommended. `image` is recommended too but
# articles have no image yet, and authors have no page for `author.url`: both are absent.
ARTICLE_RECOMMENDED = ("headline", "datePublished", "dateModified", "author")
ARTICLE_MISSING_FOR_NOW = ("image",)
# Google, LocalBusiness: name and address are required; telephone and hours recommended.
OFFICE_REQUIRED = ("name", "address")
OFFICE_RECOMMENDED = ("telephone", "openingHoursSpecification")
ADDRESS_FIELDS = ("streetAddress", "addressLocality", "addressRegion", "postalCode")
HOURS_FIELDS = ("dayOfWeek", "opens", "closes")


def objects(data: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in ``data``, outermost first."""
    if isinstance(data, dict):
        yield data
        for value in data.values():
            yield from objects(value)
    elif isinstance(data, list):
        for item in data:
            yield from objects(item)


def assert_valid_vocabulary(data: dict[str, Any]) -> None:
    assert data["@context"] == "https://schema.org"
    for inner in objects(data):
        assert inner["@type"] in SCHEMA_ORG_TYPES, inner
        assert inner is data or "@context" not in inner


def assert_news_article(data: dict[str, Any]) -> None:
    assert_valid_vocabulary(data)
    assert data["@type"] == "NewsArticle"
    assert all(data.get(key) for key in ARTICLE_RECOMMENDED), data
    assert all(author["name"] for author in data["author"])
    for key in ("datePublished", "dateModified"):
        assert datetime.fromisoformat(data[key]).utcoffset() is not None  # ISO 8601 with offset
    assert not any(key in data for key in ARTICLE_MISSING_FOR_NOW)


def assert_government_office(data: dict[str, Any]) -> None:
    assert_valid_vocabulary(data)
    assert data["@type"] == "GovernmentOffice"
    assert all(data.get(key) for key in (*OFFICE_REQUIRED, *OFFICE_RECOMMENDED)), data
    assert all(data["address"].get(key) for key in ADDRESS_FIELDS), data["address"]
    for spec in data["openingHoursSpecification"]:
        assert all(spec.get(key) for key in HOURS_FIELDS), spec
        assert spec["dayOfWeek"] in DAYS_OF_WEEK
        assert time.fromisoformat(spec["opens"]) < time.fromisoformat(spec["closes"])


# --- the pure functions -----------------------------------------------------------------------

UPDATED = datetime(2024, 3, 2, 9, 15, tzinfo=UTC)
PUBLISHED = datetime(2024, 3, 1, 12, tzinfo=UTC)
LUNCH = Interval(time(13), time(14), "lunch")


def article(**fields: Any) -> Article:
    data = ArticleCreate.model_validate(
        {
            "slug": "budget",
            "title": "Budget passed",
            "lead": "The council passed the budget.",
            "body": "Long body.",
            "status": ArticleStatus.PUBLISHED,
            "language": Language.BE,
            "published_at": PUBLISHED,
            **fields,
        }
    )
    return Article.model_validate({**data.model_dump(), "id": 1, "updated_at": UPDATED})


def author(name: str, **fields: Any) -> Author:
    data = AuthorCreate.model_validate({"slug": name.lower(), "name": name, **fields})
    return Author.model_validate({**data.model_dump(), "id": 1})


def test_article_with_a_byline():
    # given
    anna = author("Anna", email="anna@example.by", avatar_url="https://example.by/anna.jpg")
    ivan = author("Ivan", email="ivan@example.by")

    # when
    data = news_article(article(), [anna, ivan])

    # then
    assert data == {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": "Budget passed",
        "description": "The council passed the budget.",
        "inLanguage": "be",
        "datePublished": "2024-03-01T12:00:00+00:00",
        "dateModified": "2024-03-02T09:15:00+00:00",
        "author": [
            {"@type": "Person", "name": "Anna", "image": "https://example.by/anna.jpg"},
            {"@type": "Person", "name": "Ivan"},
        ],
    }
    assert_news_article(data)
    assert "@example.by" not in json.dumps(data)


def test_syndicated_article_without_a_byline_credits_its_source():
    # when
    data = news_article(
        article(source_name="BelTA", source_url="https://www.belta.by/politics/view/1"), []
    )

    # then
    assert data["author"] == [{"@type": "Organization", "name": "BelTA"}]
    assert data["publisher"] == {"@type": "Organization", "name": "BelTA"}
    assert data["isBasedOn"] == "https://www.belta.by/politics/view/1"
    assert_news_article(data)


def test_syndicated_article_with_a_byline_names_the_people():
    # when
    data = news_article(article(source_name="BelTA"), [author("Anna")])

    # then
    assert data["author"] == [{"@type": "Person", "name": "Anna"}]
    assert data["publisher"] == {"@type": "Organization", "name": "BelTA"}
    assert "isBasedOn" not in data


def test_article_without_byline_or_source_credits_nobody():
    # when
    data = news_article(article(lead=""), [])

    # then: no invented author; an empty lead is no description
    assert "author" not in data
    assert "description" not in data
    assert_valid_vocabulary(data)


def test_draft_has_no_publication_date():
    # when
    data = news_article(article(status=ArticleStatus.DRAFT, published_at=None), [])

    # then
    assert "datePublished" not in data
    assert data["dateModified"] == "2024-03-02T09:15:00+00:00"


def as_read(rows: list[OfficeHours] | list[OfficeException]) -> list[Any]:
    """The rows as the office reads give them: by attribute, JSON columns as their text."""
    return [
        SimpleNamespace(**{**row.model_dump(), "breaks": orjson.dumps(row.breaks).decode()})
        for row in rows
    ]


@pytest.mark.parametrize(
    ("breaks", "expected"),
    [
        ((), [("08:30", "17:30")]),
        ((LUNCH,), [("08:30", "13:00"), ("14:00", "17:30")]),
        (
            (Interval(time(15), time(15, 15)), LUNCH),  # given out of order
            [("08:30", "13:00"), ("14:00", "15:00"), ("15:15", "17:30")],
        ),
        ((Interval(time(8, 30), time(9)), Interval(time(17), time(17, 30))), [("09:00", "17:00")]),
    ],
)
def test_open_intervals_cut_the_day_at_its_breaks(breaks, expected):
    # when
    spans = open_intervals(DayHours(time(8, 30), time(17, 30), breaks))

    # then
    assert [(f"{a:%H:%M}", f"{b:%H:%M}") for a, b in spans] == expected


def test_office_with_every_detail():
    # given: fax and phones out of role order, a lunch break, a holiday and a short day
    office = Office.model_validate(
        {
            **OfficeCreate(
                slug="registry",
                name="Registry Office",
                description="Births, marriages and deaths.",
                postal_code="220030",
                region="Minsk",
                locality="Minsk",
                street="Nezavisimosti av., 8",
                email="registry@example.by",
                website="https://registry.example.by/",
                latitude=53.9,
                longitude=27.56,
            ).model_dump(),
            "id": 7,
        }
    )
    phones = [
        OfficePhone.model_validate(
            {"office_id": 7, "position": n, "kind": kind, "label": label, "number": number}
        )
        for n, (kind, label, number) in enumerate(
            [
                ("fax", None, "+375172000001"),
                ("hotline", "Hot line", "+375172000002"),
                ("reception", "Reception", "+375172000003"),
                ("other", None, "+375172000004"),
            ]
        )
    ]
    hours = [
        OfficeHours.model_validate(
            {
                "office_id": 7,
                "weekday": day,
                "opens": time(9),
                "closes": time(18),
                "breaks": breaks_to_json([LUNCH]),
            }
        )
        for day in (1, 6)
    ]
    exceptions = [
        OfficeException.model_validate(
            {"office_id": 7, "day": date(2024, 1, 1), "closed": True, "note": "New Year"}
        ),
        OfficeException.model_validate(
            {
                "office_id": 7,
                "day": date(2024, 12, 31),
                "closed": False,
                "opens": time(9),
                "closes": time(15),
                "breaks": breaks_to_json([LUNCH]),
            }
        ),
    ]

    # when
    data = government_office(office, phones, as_read(hours), as_read(exceptions))

    # then
    def spec(opens: str, closes: str, **when: str) -> dict[str, str]:
        return {"@type": "OpeningHoursSpecification", **when, "opens": opens, "closes": closes}

    assert data == {
        "@context": "https://schema.org",
        "@type": "GovernmentOffice",
        "name": "Registry Office",
        "description": "Births, marriages and deaths.",
        "address": {
            "@type": "PostalAddress",
            "streetAddress": "Nezavisimosti av., 8",
            "addressLocality": "Minsk",
            "addressRegion": "Minsk",
            "postalCode": "220030",
            "addressCountry": "BY",
        },
        "telephone": "+375172000003",
        "faxNumber": "+375172000001",
        "contactPoint": [
            {
                "@type": "ContactPoint",
                "telephone": "+375172000002",
                "contactType": "hotline",
                "name": "Hot line",
            },
            {"@type": "ContactPoint", "telephone": "+375172000004"},
        ],
        "email": "registry@example.by",
        "url": "https://registry.example.by/",
        "geo": {"@type": "GeoCoordinates", "latitude": 53.9, "longitude": 27.56},
        "openingHoursSpecification": [
            spec("09:00", "13:00", dayOfWeek="Monday"),
            spec("14:00", "18:00", dayOfWeek="Monday"),
            spec("09:00", "13:00", dayOfWeek="Saturday"),
            spec("14:00", "18:00", dayOfWeek="Saturday"),
        ],
        "specialOpeningHoursSpecification": [
            spec("00:00", "00:00", validFrom="2024-01-01", validThrough="2024-01-01"),
            spec("09:00", "13:00", validFrom="2024-12-31", validThrough="2024-12-31"),
            spec("14:00", "15:00", validFrom="2024-12-31", validThrough="2024-12-31"),
        ],
    }
    assert_government_office(data)


def test_office_without_phones_hours_or_address():
    # when
    data = government_office(
        Office.model_validate({**OfficeCreate(slug="x", name="X").model_dump(), "id": 1}),
        [],
        [],
        [],
    )

    # then: only the country is known; no telephone, and an empty week
    assert data == {
        "@context": "https://schema.org",
        "@type": "GovernmentOffice",
        "name": "X",
        "address": {"@type": "PostalAddress", "addressCountry": "BY"},
        "openingHoursSpecification": [],
    }


# --- through GraphQL --------------------------------------------------------------------------

SEED_JSON_LD = """
query SeedJsonLd($article: String!, $office: String!) {
  article(slug: $article) { updatedAt jsonLd }
  office(slug: $office) { jsonLd }
}
"""

ARTICLE_JSON_LD = """
query ArticleJsonLd($id: ID!) {
  article(id: $id) { jsonLd }
  node(id: $id) { ... on Article { jsonLd } }
}
"""

ARTICLES_JSON_LD = """
query ArticlesJsonLd($n: Int!) { articles(first: $n) { nodes { jsonLd } } }
"""

OFFICES_JSON_LD = """
query OfficesJsonLd($n: Int!) { offices(first: $n) { nodes { jsonLd } } }
"""


async def graphql(client: httpx.AsyncClient, query: str, **variables: Any) -> Any:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    return response.json()


def seed_hours() -> list[dict[str, str]]:
    """The seed's week: two intervals per weekday around the 13:00-14:00 lunch."""
    return [
        {"@type": "OpeningHoursSpecification", "dayOfWeek": day, "opens": opens, "closes": closes}
        for day in DAYS_OF_WEEK[:5]
        for opens, closes in (("08:30", "13:00"), ("14:00", "17:30"))
    ]


async def test_seed_json_ld(client, sessionmaker):
    # given
    async with sessionmaker() as session:
        await load_seed(session)

    # when
    body = await graphql(client, SEED_JSON_LD, article=ARTICLE_SLUG, office=OFFICE.slug)

    # then
    updated_at = body["data"]["article"]["updatedAt"]
    assert body == {
        "data": {
            "article": {
                "updatedAt": updated_at,
                "jsonLd": {
                    "@context": "https://schema.org",
                    "@type": "NewsArticle",
                    "headline": article_create().title,
                    "description": article_create().lead,
                    "inLanguage": "en",
                    "datePublished": "2023-11-23T10:00:00+00:00",
                    "dateModified": updated_at,
                    "author": [{"@type": "Organization", "name": "BelTA"}],
                    "publisher": {"@type": "Organization", "name": "BelTA"},
                    "isBasedOn": "https://www.belta.by/",
                },
            },
            "office": {
                "jsonLd": {
                    "@context": "https://schema.org",
                    "@type": "GovernmentOffice",
                    "name": "Kopyl District Executive Committee",
                    "address": {
                        "@type": "PostalAddress",
                        "streetAddress": "Lenin square, 6",
                        "addressLocality": "Kopyl",
                        "addressRegion": "Minsk region",
                        "postalCode": "223927",
                        "addressCountry": "BY",
                    },
                    "telephone": "+375171928260",
                    "contactPoint": [
                        {"@type": "ContactPoint", "telephone": "+375171955241"},
                        {
                            "@type": "ContactPoint",
                            "telephone": "+375171928260",
                            "contactType": "hotline",
                            "name": "Hot line",
                        },
                    ],
                    "openingHoursSpecification": seed_hours(),
                }
            },
        }
    }
    assert_news_article(body["data"]["article"]["jsonLd"])
    assert_government_office(body["data"]["office"]["jsonLd"])


@pytest.mark.parametrize("status", [ArticleStatus.DRAFT, ArticleStatus.ARCHIVED])
async def test_json_ld_of_hidden_articles_is_not_public(client, sessionmaker, status):
    # given
    hidden = await make_article(sessionmaker, "Secret plan", status=status, published_at=PUBLISHED)
    scheduled = await make_article(
        sessionmaker, "Tomorrow", published_at=datetime(2999, 1, 1, tzinfo=UTC)
    )

    # when
    bodies = [
        await graphql(client, ARTICLE_JSON_LD, id=to_global_id("Article", a.id))
        for a in (hidden, scheduled)
    ]
    listed = await graphql(client, ARTICLES_JSON_LD, n=100)

    # then
    assert bodies == [{"data": {"article": None, "node": None}}] * 2
    assert listed == {"data": {"articles": {"nodes": []}}}


@pytest.mark.parametrize("viewer", [None, Viewer(Role.EDITOR, "desk")], ids=["anonymous", "editor"])
async def test_json_ld_never_shows_author_emails(sessionmaker, viewer):
    # given
    anna = await make_author(sessionmaker, "Anna", email="anna@example.by")
    published = await make_article(sessionmaker, authors=[anna])
    context = Context(sessionmaker=sessionmaker, **({"viewer": viewer} if viewer else {}))

    # when
    result = await build_schema().execute(
        ARTICLE_JSON_LD,
        variable_values={"id": to_global_id("Article", published.id)},
        context_value=context,
    )

    # then: published markup is public, whoever asks for it
    assert result.errors is None
    assert result.data is not None
    assert result.data["article"]["jsonLd"]["author"] == [{"@type": "Person", "name": "Anna"}]
    assert "anna@example.by" not in json.dumps(result.data)


async def statements(
    client: httpx.AsyncClient, counter: QueryCounter, query: str, n: int
) -> tuple[Any, int]:
    counter.reset()
    body = await graphql(client, query, n=n)
    assert "errors" not in body, body
    return body, counter.count


async def test_json_ld_of_many_articles_is_batched(client, sessionmaker, count_queries):
    # given
    anna = await make_author(sessionmaker, "Anna")
    for _ in range(20):
        await make_article(sessionmaker, authors=[anna])
    # The first connection's set-up is not counted; other variables than the counted ones,
    # so that the response cache cannot answer them.
    await graphql(client, ARTICLES_JSON_LD, n=2)

    # when
    one, for_one = await statements(client, count_queries, ARTICLES_JSON_LD, 1)
    twenty, for_twenty = await statements(client, count_queries, ARTICLES_JSON_LD, 20)

    # then
    nodes = twenty["data"]["articles"]["nodes"]
    assert len(one["data"]["articles"]["nodes"]) == 1
    assert [node["jsonLd"]["author"] for node in nodes] == [
        [{"@type": "Person", "name": "Anna"}]
    ] * 20
    assert for_twenty == for_one


async def test_json_ld_of_many_offices_is_batched(client, sessionmaker, count_queries):
    # given
    for _ in range(20):
        await make_office(sessionmaker)
    await graphql(client, OFFICES_JSON_LD, n=2)  # not the counted variables: not cached

    # when
    one, for_one = await statements(client, count_queries, OFFICES_JSON_LD, 1)
    twenty, for_twenty = await statements(client, count_queries, OFFICES_JSON_LD, 20)

    # then
    nodes = twenty["data"]["offices"]["nodes"]
    assert len(one["data"]["offices"]["nodes"]) == 1
    assert [node["jsonLd"]["openingHoursSpecification"] for node in nodes] == [seed_hours()] * 20
    assert for_twenty == for_one
