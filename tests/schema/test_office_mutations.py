"""Admins write offices over HTTP: create, update and delete, with phones and hours.

Times are in Minsk (+03:00); 2024-01-10 is a Wednesday, 2024-03-08 (Women's Day) a Friday.
"""

from datetime import UTC, datetime
from typing import Any
from unittest.mock import ANY

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import func, select

from models import AuditEntry, Office, OfficeException, OfficeHours, OfficePhone, Role
from models.db import SessionMaker
from models.services import audit
from models.services.tokens import create_token
from schema.node import to_global_id
from tests.factories import make_office

pytestmark = pytest.mark.anyio

OFFICE_FIELDS = """
fragment OfficeFields on Office {
  id slug name description
  address { postalCode country region locality street }
  email website timezone latitude longitude
  phones { kind label e164 }
  hours { weekday opens closes breaks { start end label } }
  exceptions { date closed opens closes breaks { start end label } note }
  hoursText
  wednesdayMorning: isOpen(at: "2024-01-10T10:00:00+03:00")
  wednesdayLunch: isOpen(at: "2024-01-10T13:30:00+03:00")
  holiday: isOpen(at: "2024-03-08T10:00:00+03:00")
}
"""

CREATE_OFFICE = (
    """
mutation CreateOffice($input: CreateOfficeInput!) {
  createOffice(input: $input) { office { ...OfficeFields } errors { field message code } }
}
"""
    + OFFICE_FIELDS
)

CREATE_OFFICE_SLUG = """
mutation CreateOfficeSlug($input: CreateOfficeInput!) {
  createOffice(input: $input) { office { slug } errors { field message code } }
}
"""

UPDATE_OFFICE = (
    """
mutation UpdateOffice($id: ID!, $input: UpdateOfficeInput!) {
  updateOffice(id: $id, input: $input) {
    office { ...OfficeFields updatedAt }
    errors { field message code }
  }
}
"""
    + OFFICE_FIELDS
)

UPDATE_OFFICE_SLUG = """
mutation UpdateOfficeSlug($id: ID!, $input: UpdateOfficeInput!) {
  updateOffice(id: $id, input: $input) { office { slug } errors { field message code } }
}
"""

DELETE_OFFICE = """
mutation DeleteOffice($id: ID!) {
  deleteOffice(id: $id) { deletedId errors { field message code } }
}
"""

OFFICE_QUERY = (
    """
query Office($slug: String!) { office(slug: $slug) { ...OfficeFields } }
"""
    + OFFICE_FIELDS
)

SLUG = "kopyl-district-executive-committee"
LONG_AGO = datetime(2024, 1, 1, tzinfo=UTC)
LUNCH = {"start": "13:00", "end": "14:00", "label": "lunch"}
LUNCH_OUT = {"start": "13:00:00", "end": "14:00:00", "label": "lunch"}
WEEKDAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY")

# The seed's contact block, as an admin would type it in.
KOPYL = {
    "name": "Kopyl District Executive Committee",
    "description": "District government.",
    "postalCode": "223927",
    "region": "Minsk region",
    "locality": "Kopyl",
    "street": "Lenin square, 6",
    "email": "info@kopyl.gov.by",
    "website": "https://kopyl.gov.by",
    "latitude": 53.15,
    "longitude": 27.09,
    "phones": [
        {"kind": "RECEPTION", "label": "Reception", "number": "+375 (1719) 28-2-60"},
        {"kind": "HOTLINE", "label": "Hot line", "number": "8 01719 55-2-41"},
    ],
    "hours": [
        {"weekday": day, "opens": "08:30", "closes": "17:30", "breaks": [LUNCH]} for day in WEEKDAYS
    ],
    "exceptions": [{"date": "2024-03-08", "closed": True, "note": "Women's Day"}],
}

KOPYL_OUT = {
    "slug": SLUG,
    "name": "Kopyl District Executive Committee",
    "description": "District government.",
    "address": {
        "postalCode": "223927",
        "country": "BY",
        "region": "Minsk region",
        "locality": "Kopyl",
        "street": "Lenin square, 6",
    },
    "email": "info@kopyl.gov.by",
    "website": "https://kopyl.gov.by/",
    "timezone": "Europe/Minsk",
    "latitude": 53.15,
    "longitude": 27.09,
    "phones": [
        {"kind": "RECEPTION", "label": "Reception", "e164": "+375171928260"},
        {"kind": "HOTLINE", "label": "Hot line", "e164": "+375171955241"},
    ],
    "hours": [
        {"weekday": day, "opens": "08:30:00", "closes": "17:30:00", "breaks": [LUNCH_OUT]}
        for day in WEEKDAYS
    ],
    "exceptions": [
        {
            "date": "2024-03-08",
            "closed": True,
            "opens": None,
            "closes": None,
            "breaks": [],
            "note": "Women's Day",
        }
    ],
    "hoursText": "Mon-Fri 08:30-17:30, lunch 13:00-14:00",
    "wednesdayMorning": True,
    "wednesdayLunch": False,
    "holiday": False,
}


async def post(
    client: httpx.AsyncClient, query: str, token: str | None = None, **variables: Any
) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


async def token_for(sessionmaker: SessionMaker, role: Role) -> str:
    async with sessionmaker() as session:
        _, secret = await create_token(session, name=f"{role.value}-desk", role=role)
    return secret


@pytest.fixture
async def admin(sessionmaker: SessionMaker) -> str:
    return await token_for(sessionmaker, Role.ADMIN)


@pytest.fixture
async def editor(sessionmaker: SessionMaker) -> str:
    return await token_for(sessionmaker, Role.EDITOR)


async def count(sessionmaker: SessionMaker, model: Any) -> int:
    async with sessionmaker() as session:
        return (await session.exec(select(func.count()).select_from(model))).one()


async def row_counts(sessionmaker: SessionMaker) -> dict[str, int]:
    tables = {
        "office": Office,
        "phone": OfficePhone,
        "hours": OfficeHours,
        "exception": OfficeException,
        "audit": AuditEntry,
    }
    return {name: await count(sessionmaker, model) for name, model in tables.items()}


NOTHING = {"office": 0, "phone": 0, "hours": 0, "exception": 0, "audit": 0}


async def audit_trail(sessionmaker: SessionMaker) -> list[tuple[Any, ...]]:
    async with sessionmaker() as session:
        entries = await session.exec(select(AuditEntry).order_by(sa.column("id")))
        return [(e.actor, e.action, e.entity_type, e.entity_id, e.details) for e in entries]


async def create_kopyl(client: httpx.AsyncClient, admin: str) -> str:
    body = await post(client, CREATE_OFFICE, admin, input=KOPYL)
    assert body["data"]["createOffice"]["errors"] == []
    return str(body["data"]["createOffice"]["office"]["id"])


def error(field: list[str] | None, message: str, code: str) -> dict[str, Any]:
    return {"field": field, "message": message, "code": code}


# --- create ----------------------------------------------------------------------------------


async def test_create_office_with_phones_hours_and_exceptions(client, sessionmaker, admin):
    # when
    body = await post(client, CREATE_OFFICE, admin, input=KOPYL)

    # then: phones in E.164, the week, the holiday, and whether it is open
    office_id = to_global_id("Office", 1)
    assert body == {
        "data": {"createOffice": {"office": {"id": office_id, **KOPYL_OUT}, "errors": []}}
    }
    # ... it reads back the same
    assert await post(client, OFFICE_QUERY, slug=SLUG) == {
        "data": {"office": {"id": office_id, **KOPYL_OUT}}
    }
    # ... and the admin's token is on record
    assert await audit_trail(sessionmaker) == [
        ("admin-desk", "office.created", "office", 1, {"slug": SLUG})
    ]


async def test_create_with_only_a_name_takes_the_defaults(client, admin):
    # when
    body = await post(client, CREATE_OFFICE, admin, input={"name": "Slutsk office"})

    # then
    assert body == {
        "data": {
            "createOffice": {
                "office": {
                    "id": to_global_id("Office", 1),
                    "slug": "slutsk-office",
                    "name": "Slutsk office",
                    "description": "",
                    "address": {
                        "postalCode": "",
                        "country": "BY",
                        "region": "",
                        "locality": "",
                        "street": "",
                    },
                    "email": None,
                    "website": None,
                    "timezone": "Europe/Minsk",
                    "latitude": None,
                    "longitude": None,
                    "phones": [],
                    "hours": [],
                    "exceptions": [],
                    "hoursText": "",
                    "wednesdayMorning": False,
                    "wednesdayLunch": False,
                    "holiday": False,
                },
                "errors": [],
            }
        }
    }


async def test_generated_slugs_get_a_number_when_taken(client, admin):
    # given
    names = ["Kopyl office", "Kopyl office", "Kopyl office", "Капыльскі раённы выканаўчы камітэт"]

    # when
    bodies = [await post(client, CREATE_OFFICE_SLUG, admin, input={"name": n}) for n in names]

    # then: Belarusian names are transliterated by Belarusian rules
    assert bodies == [
        {"data": {"createOffice": {"office": {"slug": slug}, "errors": []}}}
        for slug in (
            "kopyl-office",
            "kopyl-office-2",
            "kopyl-office-3",
            "kapylski-raenny-vykanauchy-kamitet",
        )
    ]


async def test_a_shortened_day_is_an_exception_with_hours(client, admin):
    # given
    short_day = {
        "date": "2024-03-07",
        "closed": False,
        "opens": "08:30",
        "closes": "16:30",
        "breaks": [LUNCH],
        "note": "Pre-holiday day",
    }

    # when
    body = await post(client, CREATE_OFFICE, admin, input={**KOPYL, "exceptions": [short_day]})

    # then
    office = body["data"]["createOffice"]["office"]
    assert office["exceptions"] == [
        {
            "date": "2024-03-07",
            "closed": False,
            "opens": "08:30:00",
            "closes": "16:30:00",
            "breaks": [LUNCH_OUT],
            "note": "Pre-holiday day",
        }
    ]
    assert office["holiday"] is True  # 8 March keeps its usual Friday hours now


# Input (on top of a valid minimal one) -> the errors it gives; nothing is written for any.
CREATE_ERRORS = {
    "name missing": (
        {"name": None},
        [error(["input", "name"], "This field is required", "REQUIRED")],
    ),
    "name blank": (
        {"name": "   "},
        [error(["input", "name"], "This field is required", "REQUIRED")],
    ),
    "name too long": (
        {"name": "x" * 301},
        [error(["input", "name"], "String should have at most 300 characters", "TOO_LONG")],
    ),
    "bad slug": (
        {"slug": "Not a slug"},
        [
            error(
                ["input", "slug"],
                "Use lowercase Latin letters, digits and single hyphens",
                "INVALID",
            )
        ],
    ),
    "bad phone": (
        {"phones": [{"kind": "RECEPTION", "number": "12"}]},
        [
            error(
                ["input", "phones", "0", "number"],
                "'12' is not a valid telephone number",
                "INVALID",
            )
        ],
    ),
    "phone without a number": (
        {"phones": [{"label": "Reception"}]},
        [error(["input", "phones", "0", "number"], "This field is required", "REQUIRED")],
    ),
    "bad website": (
        {"website": "ftp://kopyl.gov.by"},
        [error(["input", "website"], "URL scheme should be 'http' or 'https'", "INVALID")],
    ),
    "bad email": (
        {"email": "kopyl.gov.by"},
        [
            error(
                ["input", "email"],
                "value is not a valid email address: An email address must have an @-sign.",
                "INVALID",
            )
        ],
    ),
    "bad timezone": (
        {"timezone": "Europe/Kopyl"},
        [error(["input", "timezone"], "Use an IANA timezone name, e.g. Europe/Minsk", "INVALID")],
    ),
    "bad country": (
        {"country": "XX"},
        [
            error(
                ["input", "country"],
                "Use an ISO 3166-1 alpha-2 country code in capitals, e.g. BY",
                "INVALID",
            )
        ],
    ),
    "latitude out of range": (
        {"latitude": 91.0},
        [error(["input", "latitude"], "Input should be less than or equal to 90", "INVALID")],
    ),
    "closes before opens": (
        {"hours": [{"weekday": "MONDAY", "opens": "17:30", "closes": "08:30"}]},
        [error(["input", "hours", "0", "closes"], "Closes must be after opens", "INVALID")],
    ),
    "lunch outside the day and overlapping": (
        {
            "hours": [
                {
                    "weekday": "MONDAY",
                    "opens": "08:30",
                    "closes": "12:00",
                    "breaks": [LUNCH, {"start": "11:30", "end": "13:30"}],
                }
            ]
        },
        [
            error(
                ["input", "hours", "0", "breaks"],
                "Lunch 13:00-14:00 must lie within opening hours 08:30-12:00",
                "INVALID",
            ),
            error(
                ["input", "hours", "0", "breaks"],
                "Break 11:30-13:30 must lie within opening hours 08:30-12:00",
                "INVALID",
            ),
            error(
                ["input", "hours", "0", "breaks"],
                "Break 11:30-13:30 overlaps lunch 13:00-14:00",
                "INVALID",
            ),
        ],
    ),
    "seconds in a time": (
        {"hours": [{"weekday": "MONDAY", "opens": "08:30:15", "closes": "17:30"}]},
        [
            error(
                ["input", "hours", "0", "opens"],
                "Give the time in whole minutes, e.g. 08:30",
                "INVALID",
            )
        ],
    ),
    "weekday twice": (
        {
            "hours": [
                {"weekday": "MONDAY", "opens": "08:30", "closes": "17:30"},
                {"weekday": "MONDAY", "opens": "09:00", "closes": "18:00"},
            ]
        },
        [error(["input", "hours", "1", "weekday"], "Mon is listed more than once", "DUPLICATE")],
    ),
    "date twice": (
        {"exceptions": [{"date": "2024-03-08"}, {"date": "2024-03-08", "note": "again"}]},
        [
            error(
                ["input", "exceptions", "1", "date"],
                "2024-03-08 is listed more than once",
                "DUPLICATE",
            )
        ],
    ),
    "open exception without hours": (
        {"exceptions": [{"date": "2024-03-07", "closed": False}]},
        [
            error(
                ["input", "exceptions", "0", "opens"],
                "A day that is not closed needs this",
                "REQUIRED",
            ),
            error(
                ["input", "exceptions", "0", "closes"],
                "A day that is not closed needs this",
                "REQUIRED",
            ),
        ],
    ),
    "closed exception with hours": (
        {"exceptions": [{"date": "2024-03-08", "opens": "08:30", "closes": "12:00"}]},
        [
            error(
                ["input", "exceptions", "0", "closed"],
                "A closed day has no hours: set closed to false to give them",
                "INVALID",
            )
        ],
    ),
    "bad exception hours": (
        {
            "exceptions": [
                {"date": "2024-03-07", "closed": False, "opens": "16:30", "closes": "08:30"}
            ]
        },
        [error(["input", "exceptions", "0", "closes"], "Closes must be after opens", "INVALID")],
    ),
}


@pytest.mark.parametrize("change", CREATE_ERRORS, ids=list(CREATE_ERRORS))
async def test_create_refuses_bad_input(client, sessionmaker, admin, change):
    # given
    fields, errors = CREATE_ERRORS[change]

    # when
    body = await post(client, CREATE_OFFICE_SLUG, admin, input={"name": "Office", **fields})

    # then
    assert body == {"data": {"createOffice": {"office": None, "errors": errors}}}
    assert await row_counts(sessionmaker) == NOTHING


async def test_every_problem_comes_back_at_once(client, sessionmaker, admin):
    # given: one problem in nearly every part of the input
    bad = {
        "name": "",
        "country": "BY",
        "email": "nobody",
        "website": "kopyl",
        "timezone": "Minsk",
        "longitude": 181.0,
        "phones": [
            {"number": "+375 (1719) 28-2-60"},
            {"number": "abc"},
            {"label": "x" * 201, "number": "12"},
        ],
        "hours": [
            {"weekday": "MONDAY", "opens": "08:30", "closes": "17:30"},
            {"weekday": "MONDAY", "opens": "18:00", "closes": "09:00"},
        ],
        "exceptions": [{"date": "2024-03-08"}, {"date": "2024-03-08"}],
    }

    # when
    body = await post(client, CREATE_OFFICE_SLUG, admin, input=bad)

    # then: shape errors first (in field order), then the rules across fields
    assert body == {
        "data": {
            "createOffice": {
                "office": None,
                "errors": [
                    error(["input", "name"], "This field is required", "REQUIRED"),
                    error(
                        ["input", "email"],
                        "value is not a valid email address: An email address must have an @-sign.",
                        "INVALID",
                    ),
                    error(
                        ["input", "website"],
                        "Input should be a valid URL, relative URL without a base",
                        "INVALID",
                    ),
                    error(
                        ["input", "timezone"],
                        "Use an IANA timezone name, e.g. Europe/Minsk",
                        "INVALID",
                    ),
                    error(
                        ["input", "longitude"],
                        "Input should be less than or equal to 180",
                        "INVALID",
                    ),
                    error(
                        ["input", "phones", "2", "label"],
                        "String should have at most 200 characters",
                        "TOO_LONG",
                    ),
                    error(
                        ["input", "phones", "1", "number"],
                        "'abc' is not a telephone number",
                        "INVALID",
                    ),
                    error(
                        ["input", "hours", "1", "weekday"],
                        "Mon is listed more than once",
                        "DUPLICATE",
                    ),
                    error(
                        ["input", "hours", "1", "closes"], "Closes must be after opens", "INVALID"
                    ),
                    error(
                        ["input", "exceptions", "1", "date"],
                        "2024-03-08 is listed more than once",
                        "DUPLICATE",
                    ),
                ],
            }
        }
    }
    assert await row_counts(sessionmaker) == NOTHING


async def test_phones_are_read_in_the_offices_country(client, admin):
    # given: a Lithuanian office; the number is written the Lithuanian way
    office = {"name": "Vilnius office", "country": "LT", "timezone": "Europe/Vilnius"}
    phones = [{"kind": "RECEPTION", "number": "8 5 212 3456"}]

    # when
    body = await post(client, CREATE_OFFICE, admin, input={**office, "phones": phones})

    # then
    created = body["data"]["createOffice"]
    assert created["errors"] == []
    assert created["office"]["phones"] == [
        {"kind": "RECEPTION", "label": None, "e164": "+37052123456"}
    ]


async def test_an_explicit_slug_that_is_taken_is_a_duplicate(client, sessionmaker, admin):
    # given
    await make_office(sessionmaker, slug="kopyl")
    before = await row_counts(sessionmaker)

    # when
    body = await post(client, CREATE_OFFICE_SLUG, admin, input={"name": "K", "slug": "kopyl"})

    # then
    assert body == {
        "data": {
            "createOffice": {
                "office": None,
                "errors": [
                    error(["input", "slug"], "The slug 'kopyl' is already used", "DUPLICATE")
                ],
            }
        }
    }
    assert await row_counts(sessionmaker) == before


# --- update ----------------------------------------------------------------------------------


async def test_update_replaces_the_hours_and_keeps_the_rest(client, sessionmaker, admin):
    # given: created a while ago
    office_id = await create_kopyl(client, admin)
    async with sessionmaker() as session:  # no service sets updated_at: pin it by hand
        await session.exec(sa.update(Office).values(updated_at=LONG_AGO))
        await session.commit()
    new_hours = [
        {"weekday": day, "opens": "09:00", "closes": "18:00"}
        for day in ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY")
    ]

    # when: a new name, no e-mail, a four-day week
    body = await post(
        client,
        UPDATE_OFFICE,
        admin,
        id=office_id,
        input={"name": "Kopyl Executive Committee", "email": None, "hours": new_hours},
    )

    # then: phones, exceptions and the slug stay; the week is the new one
    updated = body["data"]["updateOffice"]
    assert updated["office"]["updatedAt"] > LONG_AGO.isoformat()
    assert updated == {
        "office": {
            **KOPYL_OUT,
            "id": office_id,
            "name": "Kopyl Executive Committee",
            "email": None,
            "hours": [
                {"weekday": day, "opens": "09:00:00", "closes": "18:00:00", "breaks": []}
                for day in ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY")
            ],
            "hoursText": "Mon-Thu 09:00-18:00",
            "wednesdayLunch": True,
            "updatedAt": ANY,
        },
        "errors": [],
    }
    assert await row_counts(sessionmaker) == {
        "office": 1,
        "phone": 2,
        "hours": 4,
        "exception": 1,
        "audit": 2,
    }
    assert (await audit_trail(sessionmaker))[-1] == (
        "admin-desk",
        "office.updated",
        "office",
        1,
        {"fields": ["email", "hours", "name"]},
    )


async def test_update_with_empty_lists_clears_them(client, sessionmaker, admin):
    # given
    office_id = await create_kopyl(client, admin)

    # when
    body = await post(
        client,
        UPDATE_OFFICE,
        admin,
        id=office_id,
        input={"phones": [], "hours": [], "exceptions": []},
    )

    # then
    office = body["data"]["updateOffice"]["office"]
    assert (office["phones"], office["hours"], office["exceptions"], office["hoursText"]) == (
        [],
        [],
        [],
        "",
    )
    assert await row_counts(sessionmaker) == {
        "office": 1,
        "phone": 0,
        "hours": 0,
        "exception": 0,
        "audit": 2,
    }


async def test_an_update_that_changes_nothing_writes_nothing(client, sessionmaker, admin):
    # given
    office_id = await create_kopyl(client, admin)

    # when: the same values again, the phones written differently
    same = {
        "name": KOPYL["name"],
        "phones": [
            {"kind": "RECEPTION", "label": "Reception", "number": "+375171928260"},
            {"kind": "HOTLINE", "label": "Hot line", "number": "+375 1719 55241"},
        ],
        "hours": KOPYL["hours"],
    }
    body = await post(client, UPDATE_OFFICE_SLUG, admin, id=office_id, input=same)

    # then
    assert body == {"data": {"updateOffice": {"office": {"slug": SLUG}, "errors": []}}}
    assert [entry[1] for entry in await audit_trail(sessionmaker)] == ["office.created"]


async def test_update_refuses_bad_input_and_keeps_the_office(client, sessionmaker, admin):
    # given
    office_id = await create_kopyl(client, admin)
    await make_office(sessionmaker, slug="taken")

    # when: null where a value is needed, a bad number, a taken slug
    bodies = [
        await post(client, UPDATE_OFFICE_SLUG, admin, id=office_id, input=change)
        for change in (
            {"name": None, "phones": None, "country": None, "latitude": None},
            {"phones": [{"number": "12"}]},
            {"slug": "taken"},
        )
    ]

    # then
    assert bodies == [
        {"data": {"updateOffice": {"office": None, "errors": errors}}}
        for errors in (
            [
                error(["input", "name"], "This field is required", "REQUIRED"),
                error(["input", "country"], "This field is required", "REQUIRED"),
                error(["input", "phones"], "This field is required", "REQUIRED"),
            ],
            [
                error(
                    ["input", "phones", "0", "number"],
                    "'12' is not a valid telephone number",
                    "INVALID",
                )
            ],
            [error(["input", "slug"], "The slug 'taken' is already used", "DUPLICATE")],
        )
    ]
    assert await post(client, OFFICE_QUERY, slug=SLUG) == {
        "data": {"office": {"id": office_id, **KOPYL_OUT}}
    }


async def test_update_checks_phones_in_the_new_country(client, admin):
    # given
    office_id = await create_kopyl(client, admin)

    # when: the office moves to Lithuania with a number written the Lithuanian way
    body = await post(
        client,
        UPDATE_OFFICE_SLUG,
        admin,
        id=office_id,
        input={"country": "LT", "phones": [{"number": "8 5 212 3456"}]},
    )

    # then
    assert body == {"data": {"updateOffice": {"office": {"slug": SLUG}, "errors": []}}}


@pytest.mark.parametrize(
    ("office_id", "errors"),
    [
        (
            to_global_id("Office", 999),
            [error(["id"], "No office with this ID", "NOT_FOUND")],
        ),
        ("not-an-id", [error(["id"], "'not-an-id' is not a valid ID", "INVALID")]),
        (
            to_global_id("Tag", 1),
            [error(["id"], "ID is of type Tag, expected Office", "INVALID")],
        ),
    ],
    ids=["unknown", "malformed", "other type"],
)
async def test_update_of_a_missing_office(client, admin, office_id, errors):
    # when
    body = await post(client, UPDATE_OFFICE_SLUG, admin, id=office_id, input={"name": "New"})

    # then
    assert body == {"data": {"updateOffice": {"office": None, "errors": errors}}}


# --- delete ----------------------------------------------------------------------------------


async def test_delete_removes_the_office_with_its_phones_and_hours(client, sessionmaker, admin):
    # given
    office_id = await create_kopyl(client, admin)

    # when
    body = await post(client, DELETE_OFFICE, admin, id=office_id)

    # then
    assert body == {"data": {"deleteOffice": {"deletedId": office_id, "errors": []}}}
    assert await post(client, OFFICE_QUERY, slug=SLUG) == {"data": {"office": None}}
    assert await row_counts(sessionmaker) == {**NOTHING, "audit": 2}
    assert (await audit_trail(sessionmaker))[-1] == (
        "admin-desk",
        "office.deleted",
        "office",
        1,
        {"slug": SLUG},
    )


@pytest.mark.parametrize(
    ("office_id", "errors"),
    [
        (to_global_id("Office", 999), [error(["id"], "No office with this ID", "NOT_FOUND")]),
        ("not-an-id", [error(["id"], "'not-an-id' is not a valid ID", "INVALID")]),
    ],
    ids=["unknown", "malformed"],
)
async def test_delete_of_a_missing_office(client, sessionmaker, admin, office_id, errors):
    # when
    body = await post(client, DELETE_OFFICE, admin, id=office_id)

    # then
    assert body == {"data": {"deleteOffice": {"deletedId": None, "errors": errors}}}
    assert await row_counts(sessionmaker) == NOTHING


# --- who may --------------------------------------------------------------------------------

EVERY_MUTATION = {
    "createOffice": (CREATE_OFFICE_SLUG, {"input": {"name": "Office"}}),
    "updateOffice": (
        UPDATE_OFFICE_SLUG,
        {"id": to_global_id("Office", 1), "input": {"name": "New"}},
    ),
    "deleteOffice": (DELETE_OFFICE, {"id": to_global_id("Office", 1)}),
}


@pytest.mark.parametrize(
    ("role", "message", "code"),
    [
        (Role.EDITOR, "This needs the admin role", "FORBIDDEN"),
        (None, "Authentication required: send 'Authorization: Bearer <token>'", "UNAUTHENTICATED"),
    ],
    ids=["editor", "anonymous"],
)
@pytest.mark.parametrize("mutation", EVERY_MUTATION)
async def test_only_admins_write_offices(client, sessionmaker, mutation, role, message, code):
    # given
    office = await make_office(sessionmaker, "Slutsk office")
    before = await row_counts(sessionmaker)
    token = await token_for(sessionmaker, role) if role else None
    query, variables = EVERY_MUTATION[mutation]

    # when
    body = await post(client, query, token, **variables)

    # then
    assert body == {
        "data": None,
        "errors": [
            {
                "message": message,
                "locations": ANY,
                "path": [mutation],
                "extensions": {"code": code},
            }
        ],
    }
    assert await row_counts(sessionmaker) == before
    async with sessionmaker() as session:
        assert (await session.get(Office, office.id)).name == "Slutsk office"


# --- one transaction ------------------------------------------------------------------------


def fail_on_audit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The audit entry is written last, after the office and its children were flushed."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(audit, "record", refuse)


INTERNAL_ERROR = {
    "message": "Internal server error",
    "locations": ANY,
    "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": ANY},
}


async def test_a_create_that_fails_halfway_leaves_nothing(client, sessionmaker, admin, monkeypatch):
    # given
    fail_on_audit(monkeypatch)

    # when
    body = await post(client, CREATE_OFFICE_SLUG, admin, input=KOPYL)

    # then: masked, and neither the office nor its phones or hours remain
    assert body == {"data": None, "errors": [{**INTERNAL_ERROR, "path": ["createOffice"]}]}
    assert await row_counts(sessionmaker) == NOTHING


async def test_an_update_that_fails_halfway_changes_nothing(
    client, sessionmaker, admin, monkeypatch
):
    # given
    office_id = await create_kopyl(client, admin)
    fail_on_audit(monkeypatch)

    # when: old phones and hours were already deleted when the audit entry fails
    body = await post(
        client,
        UPDATE_OFFICE_SLUG,
        admin,
        id=office_id,
        input={"name": "Renamed", "phones": [], "hours": []},
    )

    # then
    assert body == {"data": None, "errors": [{**INTERNAL_ERROR, "path": ["updateOffice"]}]}
    assert await post(client, OFFICE_QUERY, slug=SLUG) == {
        "data": {"office": {"id": office_id, **KOPYL_OUT}}
    }


async def test_a_delete_that_fails_halfway_keeps_the_office(
    client, sessionmaker, admin, monkeypatch
):
    # given
    office_id = await create_kopyl(client, admin)
    before = await row_counts(sessionmaker)
    fail_on_audit(monkeypatch)

    # when
    body = await post(client, DELETE_OFFICE, admin, id=office_id)

    # then
    assert body == {"data": None, "errors": [{**INTERNAL_ERROR, "path": ["deleteOffice"]}]}
    assert await row_counts(sessionmaker) == before
