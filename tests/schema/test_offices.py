"""The ``Office`` type over HTTP: the seed's contact block, opening hours and ``isOpen``.

Times are given in Minsk (+03:00, no DST since 2011) unless a test says otherwise;
2024-01-10 is a Wednesday, 2024-01-14 a Sunday.
"""

from collections.abc import Iterable
from datetime import date, time

import pytest

from models.opening_hours import DayHours
from models.services.offices import ExceptionSpec, create_office
from models.services.seed import OFFICE, PHONES, WORKDAY, load_seed
from schema.node import to_global_id
from tests.factories import make_office

pytestmark = pytest.mark.anyio

SEED_SLUG = "kopyl-district-executive-committee"

OFFICE_QUERY = """
query Office($slug: String!) {
  office(slug: $slug) {
    id
    slug
    name
    address { postalCode country region locality street formatted }
    phones { kind label e164 display uri }
    email
    website
    timezone
    hours { weekday opens closes breaks { start end label } }
    exceptions { date closed opens closes breaks { start end label } note }
    hoursText
  }
}
"""

IS_OPEN_QUERY = """
query IsOpen($slug: String!, $at: DateTime!) {
  office(slug: $slug) { isOpen(at: $at) nextChange(at: $at) }
}
"""

ACCEPTANCE_QUERY = """
query Acceptance($slug: String!) {
  office(slug: $slug) {
    wednesdayMorning: isOpen(at: "2024-01-10T10:00:00+03:00")
    wednesdayLunch: isOpen(at: "2024-01-10T13:30:00+03:00")
    sunday: isOpen(at: "2024-01-14T10:00:00+03:00")
  }
}
"""

IS_OPEN_NOW_QUERY = """
query IsOpenNow($slug: String!) {
  office(slug: $slug) { isOpen nextChange }
}
"""

EXCEPTIONS_QUERY = """
query Exceptions($slug: String!) {
  office(slug: $slug) { exceptions { date closed opens closes breaks { start end label } note } }
}
"""

OFFICES_QUERY = """
query Offices($first: Int, $after: String) {
  offices(first: $first, after: $after) {
    nodes { name }
    pageInfo { hasNextPage hasPreviousPage }
    totalCount
  }
}
"""

OFFICE_CURSORS_QUERY = """
query OfficeCursors($first: Int) {
  offices(first: $first) { nodes { name } pageInfo { endCursor } }
}
"""

OFFICE_BY_ID_QUERY = """
query OfficeById($id: ID!) {
  office(id: $id) { slug }
}
"""

NODE_QUERY = """
query Node($id: ID!) {
  node(id: $id) { __typename id ... on Office { slug name } }
}
"""

LUNCH = {"start": "13:00:00", "end": "14:00:00", "label": "lunch"}


def weekday_hours(weekday: str) -> dict[str, object]:
    return {"weekday": weekday, "opens": "08:30:00", "closes": "17:30:00", "breaks": [LUNCH]}


async def post(client, query: str, **variables: object) -> dict[str, object]:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200
    return response.json()


@pytest.fixture
async def seed(sessionmaker) -> None:
    async with sessionmaker() as session:
        assert await load_seed(session) is True


async def test_seed_office_has_every_contact_field(client, seed):
    # when
    body = await post(client, OFFICE_QUERY, slug=SEED_SLUG)

    # then
    assert body == {
        "data": {
            "office": {
                "id": to_global_id("Office", 1),
                "slug": SEED_SLUG,
                "name": "Kopyl District Executive Committee",
                "address": {
                    "postalCode": "223927",
                    "country": "BY",
                    "region": "Minsk region",
                    "locality": "Kopyl",
                    "street": "Lenin square, 6",
                    "formatted": "223927, Minsk region, Kopyl, Lenin square, 6",
                },
                "phones": [
                    {
                        "kind": "RECEPTION",
                        "label": "Reception",
                        "e164": "+375171928260",
                        "display": "8 01719 28-260",
                        "uri": "tel:+375-1719-28-260",
                    },
                    {
                        "kind": "OTHER",
                        "label": None,
                        "e164": "+375171955241",
                        "display": "8 01719 55-241",
                        "uri": "tel:+375-1719-55-241",
                    },
                    {
                        "kind": "HOTLINE",
                        "label": "Hot line",
                        "e164": "+375171928260",
                        "display": "8 01719 28-260",
                        "uri": "tel:+375-1719-28-260",
                    },
                ],
                "email": None,
                "website": None,
                "timezone": "Europe/Minsk",
                "hours": [
                    weekday_hours(day)
                    for day in ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY")
                ],
                "exceptions": [],
                "hoursText": "Mon-Fri 08:30-17:30, lunch 13:00-14:00",
            }
        }
    }


async def test_open_wednesday_morning_closed_at_lunch_and_on_sunday(client, seed):
    # when
    body = await post(client, ACCEPTANCE_QUERY, slug=SEED_SLUG)

    # then
    assert body == {
        "data": {"office": {"wednesdayMorning": True, "wednesdayLunch": False, "sunday": False}}
    }


# Instant asked about -> (isOpen, nextChange); checked as one table per database so a
# regression shows every wrong row at once.
SEED_SCHEDULE = {
    at: (is_open, next_change)
    for at, is_open, next_change in [
        # Wednesday: morning, lunch, afternoon, around the edges of the day
        ("2024-01-10T10:00:00+03:00", True, "2024-01-10T13:00:00+03:00"),
        ("2024-01-10T13:30:00+03:00", False, "2024-01-10T14:00:00+03:00"),
        ("2024-01-10T13:00:00+03:00", False, "2024-01-10T14:00:00+03:00"),
        ("2024-01-10T14:00:00+03:00", True, "2024-01-10T17:30:00+03:00"),
        ("2024-01-10T08:29:00+03:00", False, "2024-01-10T08:30:00+03:00"),
        ("2024-01-10T08:30:00+03:00", True, "2024-01-10T13:00:00+03:00"),
        ("2024-01-10T17:30:00+03:00", False, "2024-01-11T08:30:00+03:00"),
        # Friday evening and the weekend: next opening is Monday morning
        ("2024-01-12T18:00:00+03:00", False, "2024-01-15T08:30:00+03:00"),
        ("2024-01-13T10:00:00+03:00", False, "2024-01-15T08:30:00+03:00"),
        ("2024-01-14T10:00:00+03:00", False, "2024-01-15T08:30:00+03:00"),
        # The same instants given in UTC: the answer is in the office's own timezone
        ("2024-01-10T07:00:00Z", True, "2024-01-10T13:00:00+03:00"),
        ("2024-01-10T10:30:00+00:00", False, "2024-01-10T14:00:00+03:00"),
        ("2024-01-14T07:00:00Z", False, "2024-01-15T08:30:00+03:00"),
        # 23:30 UTC on Tuesday is already Wednesday 02:30 in Minsk
        ("2024-01-09T23:30:00Z", False, "2024-01-10T08:30:00+03:00"),
    ]
}


async def answers(client, slug: str, instants: Iterable[str]) -> dict[str, object]:
    """``{at: (isOpen, nextChange)}``, or the whole body where a query did not succeed."""
    found: dict[str, object] = {}
    for at in instants:
        body = await post(client, IS_OPEN_QUERY, slug=slug, at=at)
        office = body["data"]["office"] if "errors" not in body else None
        found[at] = (office["isOpen"], office["nextChange"]) if office else body
    return found


async def test_is_open_and_next_change_in_minsk_time(client, seed):
    # when
    found = await answers(client, SEED_SLUG, SEED_SCHEDULE)

    # then
    assert found == SEED_SCHEDULE


async def test_is_open_without_at_uses_now(client, seed):
    # when
    body = await post(client, IS_OPEN_NOW_QUERY, slug=SEED_SLUG)

    # then: the answer depends on the clock, so only its shape is checked
    assert "errors" not in body
    office = body["data"]["office"]
    assert isinstance(office["isOpen"], bool)
    assert isinstance(office["nextChange"], str)
    assert office["nextChange"].endswith("+03:00")


async def test_naive_at_is_a_clear_error(client, seed):
    # when
    body = await post(client, IS_OPEN_QUERY, slug=SEED_SLUG, at="2024-01-10T10:00:00")

    # then: both fields fail alike (resolved concurrently, so errors come in any order)
    message = "at must include a UTC offset, e.g. 2024-01-10T10:00:00+03:00"
    errors = sorted(body.pop("errors"), key=lambda error: error["path"])
    assert body == {"data": {"office": None}}
    assert errors == [
        {
            "message": message,
            "locations": [{"line": 3, "column": 25}],
            "path": ["office", "isOpen"],
            "extensions": {"code": "BAD_USER_INPUT", "field": "at"},
        },
        {
            "message": message,
            "locations": [{"line": 3, "column": 41}],
            "path": ["office", "nextChange"],
            "extensions": {"code": "BAD_USER_INPUT", "field": "at"},
        },
    ]


SHORT_DAY = date(2024, 3, 7)  # Thursday before Women's Day: one hour shorter
HOLIDAY = date(2024, 3, 8)  # Women's Day, a Friday


@pytest.fixture
async def office_with_exceptions(sessionmaker) -> str:
    data = OFFICE.model_copy(update={"slug": "kopyl-with-holidays"})
    short = DayHours(time(8, 30), time(16, 30), WORKDAY.breaks)
    async with sessionmaker() as session:
        await create_office(
            session,
            data=data,
            phones=PHONES,
            weekly={day: WORKDAY for day in range(1, 6)},
            exceptions=[
                ExceptionSpec(HOLIDAY, None, "Women's Day"),
                ExceptionSpec(SHORT_DAY, short, "Pre-holiday day"),
            ],
        )
    return data.slug


async def test_exceptions_are_listed_by_date(client, office_with_exceptions):
    # when
    body = await post(client, EXCEPTIONS_QUERY, slug=office_with_exceptions)

    # then
    assert body == {
        "data": {
            "office": {
                "exceptions": [
                    {
                        "date": "2024-03-07",
                        "closed": False,
                        "opens": "08:30:00",
                        "closes": "16:30:00",
                        "breaks": [LUNCH],
                        "note": "Pre-holiday day",
                    },
                    {
                        "date": "2024-03-08",
                        "closed": True,
                        "opens": None,
                        "closes": None,
                        "breaks": [],
                        "note": "Women's Day",
                    },
                ]
            }
        }
    }


EXCEPTIONS_SCHEDULE = {
    at: (is_open, next_change)
    for at, is_open, next_change in [
        # The shortened day closes at 16:30, lunch as usual
        ("2024-03-07T10:00:00+03:00", True, "2024-03-07T13:00:00+03:00"),
        ("2024-03-07T13:30:00+03:00", False, "2024-03-07T14:00:00+03:00"),
        ("2024-03-07T16:00:00+03:00", True, "2024-03-07T16:30:00+03:00"),
        # ... and stays closed over the holiday and the weekend
        ("2024-03-07T17:00:00+03:00", False, "2024-03-11T08:30:00+03:00"),
        ("2024-03-08T10:00:00+03:00", False, "2024-03-11T08:30:00+03:00"),
        # The week before, the same weekdays keep their usual hours
        ("2024-02-29T17:00:00+03:00", True, "2024-02-29T17:30:00+03:00"),
        ("2024-03-01T10:00:00+03:00", True, "2024-03-01T13:00:00+03:00"),
    ]
}


async def test_exceptions_change_is_open(client, office_with_exceptions):
    # when
    found = await answers(client, office_with_exceptions, EXCEPTIONS_SCHEDULE)

    # then
    assert found == EXCEPTIONS_SCHEDULE


async def test_offices_are_listed_by_name(client, sessionmaker):
    # given: created out of alphabetical order
    for name in ("Slutsk office", "Baranovichi office", "Nesvizh office"):
        await make_office(sessionmaker, name)

    # when
    body = await post(client, OFFICES_QUERY)

    # then
    assert body == {
        "data": {
            "offices": {
                "nodes": [
                    {"name": "Baranovichi office"},
                    {"name": "Nesvizh office"},
                    {"name": "Slutsk office"},
                ],
                "pageInfo": {"hasNextPage": False, "hasPreviousPage": False},
                "totalCount": 3,
            }
        }
    }


async def test_offices_pages_follow_the_cursor(client, sessionmaker):
    # given
    for name in ("Slutsk office", "Baranovichi office", "Nesvizh office"):
        await make_office(sessionmaker, name)
    first_page = (await post(client, OFFICE_CURSORS_QUERY, first=2))["data"]["offices"]
    assert first_page["nodes"] == [{"name": "Baranovichi office"}, {"name": "Nesvizh office"}]

    # when
    body = await post(client, OFFICES_QUERY, first=2, after=first_page["pageInfo"]["endCursor"])

    # then
    assert body == {
        "data": {
            "offices": {
                "nodes": [{"name": "Slutsk office"}],
                "pageInfo": {"hasNextPage": False, "hasPreviousPage": True},
                "totalCount": 3,
            }
        }
    }


async def test_unknown_office_slug_is_null(client, seed):
    # when
    body = await post(client, OFFICE_QUERY, slug="no-such-office")

    # then
    assert body == {"data": {"office": None}}


async def test_office_by_global_id(client, seed):
    # when
    body = await post(client, OFFICE_BY_ID_QUERY, id=to_global_id("Office", 1))

    # then
    assert body == {"data": {"office": {"slug": SEED_SLUG}}}


async def test_node_resolves_an_office(client, seed):
    # given
    office_id = to_global_id("Office", 1)

    # when
    body = await post(client, NODE_QUERY, id=office_id)

    # then
    assert body == {
        "data": {
            "node": {
                "__typename": "Office",
                "id": office_id,
                "slug": SEED_SLUG,
                "name": "Kopyl District Executive Committee",
            }
        }
    }


async def test_node_of_a_missing_office_is_null(client, seed):
    # when
    body = await post(client, NODE_QUERY, id=to_global_id("Office", 999))

    # then
    assert body == {"data": {"node": None}}
