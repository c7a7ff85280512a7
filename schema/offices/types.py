"""The ``Office`` type: address, phones, opening hours and whether it is open now."""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from enum import IntEnum
from functools import lru_cache, partial
from typing import Any, NoReturn, Self, TypeVar, cast

import strawberry
from strawberry.scalars import JSON

from models import opening_hours
from models.columns import require_aware
from models.errors import DomainError
from models.office import OfficeRead, StoredException, StoredHours, StoredPhone
from models.phones import national_format, tel_uri
from models.services.offices import breaks_from_json, schedule_of, weekly_hours
from schema.context import Info
from schema.enums import PhoneKind
from schema.jsonld import government_office
from schema.node import Node, to_global_id
from schema.sources import Column, Computed, Derive, GlobalId, Nested, Relation, Request, declare

R = TypeVar("R")


@strawberry.enum(description="ISO weekday.")
class Weekday(IntEnum):
    MONDAY = 1
    TUESDAY = 2
    WEDNESDAY = 3
    THURSDAY = 4
    FRIDAY = 5
    SATURDAY = 6
    SUNDAY = 7


_ADDRESS_COLUMNS = ("postal_code", "country", "region", "locality", "street")


def _one_line(*parts: str) -> str:
    return ", ".join(part for part in parts if part)


ADDRESS = declare(
    "Address",
    {
        "postalCode": Column("postal_code"),
        "country": Column("country"),
        "region": Column("region"),
        "locality": Column("locality"),
        "street": Column("street"),
        "formatted": Computed(("postal_code", "region", "locality", "street"), _one_line),
    },
)


@strawberry.type
class Address:
    postal_code: str
    country: str = strawberry.field(description="ISO 3166-1 alpha-2 code, e.g. BY.")
    region: str
    locality: str
    street: str

    @strawberry.field(description="The address on one line, as written locally.")
    def formatted(self) -> str:
        return cast(str, ADDRESS.compute("formatted", self))


# Parsing a number is most of the cost of an office list, and offices have few numbers.
_national_format = lru_cache(maxsize=4096)(national_format)
_tel_uri = lru_cache(maxsize=4096)(tel_uri)

PHONE = declare(
    "Phone",
    {
        "kind": Column("kind"),
        "label": Column("label"),
        "e164": Column("number", attribute="e164"),
        "display": Computed(("number",), _national_format),
        "uri": Computed(("number",), _tel_uri),
    },
)


@strawberry.type
class Phone:
    kind: PhoneKind
    label: str | None
    e164: str = strawberry.field(description="E.164, e.g. +375171928260.")

    @classmethod
    def from_model(cls, phone: StoredPhone) -> Self:
        return cls(**PHONE.values(partial(getattr, phone)))

    @strawberry.field(description="National format, as dialled inside the country.")
    def display(self) -> str:
        return cast(str, PHONE.compute("display", self))

    @strawberry.field(description="A tel: URI for links.")
    def uri(self) -> str:
        return cast(str, PHONE.compute("uri", self))


BREAK = declare("Break", {"start": Column("start"), "end": Column("end"), "label": Column("label")})


@strawberry.type(name="Break")
class BreakType:
    start: time
    end: time
    label: str | None


def _breaks(raw: str) -> list[BreakType]:
    return [BreakType(**BREAK.values(partial(getattr, b))) for b in breaks_from_json(raw)]


def _unless_closed(closed: bool, value: R) -> R | None:
    return None if closed else value


def _breaks_unless_closed(closed: bool, raw: str) -> list[BreakType]:
    return [] if closed else _breaks(raw)


OPENING_HOURS = declare(
    "OpeningHours",
    {
        "weekday": Computed(("weekday",), Weekday, attribute="weekday"),
        "opens": Column("opens"),
        "closes": Column("closes"),
        "breaks": Computed(("breaks",), _breaks, attribute="breaks"),
    },
)

HOURS_EXCEPTION = declare(
    "HoursException",
    {
        "date": Column("day", attribute="date"),
        "closed": Column("closed"),
        "opens": Computed(("closed", "opens"), _unless_closed, attribute="opens"),
        "closes": Computed(("closed", "closes"), _unless_closed, attribute="closes"),
        "breaks": Computed(("closed", "breaks"), _breaks_unless_closed, attribute="breaks"),
        "note": Column("note"),
    },
)


@strawberry.type
class OpeningHours:
    weekday: Weekday
    opens: time
    closes: time
    breaks: list[BreakType]

    @classmethod
    def from_model(cls, row: StoredHours) -> Self:
        return cls(**OPENING_HOURS.values(partial(getattr, row)))


@strawberry.type(description="A dated departure from the weekly hours.")
class HoursException:
    date: date
    closed: bool
    opens: time | None
    closes: time | None
    breaks: list[BreakType]
    note: str

    @classmethod
    def from_model(cls, row: StoredException) -> Self:
        return cls(**HOURS_EXCEPTION.values(partial(getattr, row)))


@dataclass(frozen=True)
class OfficeChildren:
    """An office's phones, weekly hours and dated exceptions, where fetched (else ``None``)."""

    phones: Sequence[StoredPhone] | None = None
    hours: Sequence[StoredHours] | None = None
    exceptions: Sequence[StoredException] | None = None

    @property
    def fetched(self) -> frozenset[str]:
        return frozenset(name for name in _ALL if getattr(self, name) is not None)


NOTHING_FETCHED = OfficeChildren()

_PHONES = frozenset({"phones"})
_HOURS = frozenset({"hours"})
_EXCEPTIONS = frozenset({"exceptions"})
_SCHEDULE = _HOURS | _EXCEPTIONS
_ALL = _PHONES | _SCHEDULE

_AT = frozenset({"at"})


def _hours_text(office: OfficeRead, rows: "OfficeRows", _a: Mapping[str, Any], _r: Request) -> str:
    return opening_hours.hours_text(rows.weekly)


def _asking(ask: Callable[[opening_hours.Schedule, datetime], R]) -> Derive:
    """``ask`` the schedule about ``at``; asked about "now", the answer (and so the whole
    response, for caches) expires at the next instant it may open or close."""

    def derive(
        office: OfficeRead, rows: "OfficeRows", arguments: Mapping[str, Any], request: Request
    ) -> R:
        at = arguments.get("at")
        instant = request.now if at is None else require_aware(at, "at")
        schedule = rows.schedule(office)
        if at is None:
            request.expire_at(opening_hours.next_boundary(schedule, request.now))
        return ask(schedule, instant)

    return derive


def _json_ld(office: OfficeRead, rows: "OfficeRows", _a: Mapping[str, Any], _r: Request) -> object:
    return JSON(government_office(office, rows.phones, rows.hours, rows.exceptions))


OFFICE = declare(
    "Office",
    {
        "id": GlobalId(),
        "slug": Column("slug"),
        "name": Column("name"),
        "description": Column("description"),
        "address": Nested("Address", attribute="address"),
        "email": Column("email"),
        "website": Column("website"),
        "timezone": Column("timezone"),
        "latitude": Column("latitude"),
        "longitude": Column("longitude"),
        "updatedAt": Column("updated_at"),
        "phones": Relation("Phone", via="phones_of_offices"),
        "hours": Relation("OpeningHours", via="hours_of_offices"),
        "exceptions": Relation("HoursException", via="exceptions_of_offices"),
        "hoursText": Computed((), relations=_HOURS, derive=_hours_text),
        "isOpen": Computed(
            ("timezone",), relations=_SCHEDULE, arguments=_AT, derive=_asking(opening_hours.is_open)
        ),
        "nextChange": Computed(
            ("timezone",),
            relations=_SCHEDULE,
            arguments=_AT,
            derive=_asking(opening_hours.next_change),
        ),
        "jsonLd": Computed(
            (
                "name",
                "description",
                "email",
                "website",
                "latitude",
                "longitude",
                "timezone",
                *_ADDRESS_COLUMNS,
            ),
            relations=_ALL,
            derive=_json_ld,
        ),
    },
)
"""Each field of ``Office``; the root resolvers prefetch the relations the selection reads."""


@dataclass(frozen=True)
class OfficeRows:
    """Every child list a field asked for, present (those it did not ask for are empty)."""

    phones: Sequence[StoredPhone]
    hours: Sequence[StoredHours]
    exceptions: Sequence[StoredException]

    @classmethod
    def of(cls, children: OfficeChildren) -> "OfficeRows":
        return cls(
            phones=children.phones or (),
            hours=children.hours or (),
            exceptions=children.exceptions or (),
        )

    @property
    def weekly(self) -> dict[int, opening_hours.DayHours]:
        return {row.weekday: weekly_hours(row) for row in self.hours}

    def schedule(self, office: OfficeRead) -> opening_hours.Schedule:
        return schedule_of(office, self.hours, self.exceptions)


@strawberry.type(name="Office", description="A public office's contact block.")
class OfficeType(Node):
    id: strawberry.ID
    slug: str
    name: str
    description: str
    address: Address
    email: str | None
    website: str | None
    timezone: str = strawberry.field(description="IANA timezone the hours are in.")
    latitude: float | None
    longitude: float | None
    updated_at: datetime
    model: strawberry.Private[OfficeRead]
    children: strawberry.Private[OfficeChildren] = NOTHING_FETCHED

    @classmethod
    def from_model(cls, office: OfficeRead, children: OfficeChildren = NOTHING_FETCHED) -> Self:
        assert office.id is not None
        column = partial(getattr, office)
        return cls(
            id=to_global_id("Office", office.id),
            model=office,
            children=children,
            address=Address(**ADDRESS.values(column)),
            **OFFICE.values(column),
        )

    @property
    def pk(self) -> int:
        assert self.model.id is not None
        return self.model.id

    # Each relation resolves from the rows the root resolver fetched for the whole page when
    # it did (synchronously, no coroutine per office), otherwise through its DataLoader: the
    # resolver then hands GraphQL an awaitable, so graphql_type names the field's type.
    @strawberry.field(graphql_type=list[Phone])
    def phones(self, info: Info) -> list[Phone] | Awaitable[list[Phone]]:
        return self._answer(info, _PHONES, lambda rows: [Phone.from_model(p) for p in rows.phones])

    @strawberry.field(
        description="Regular weekly hours; days not listed are closed.",
        graphql_type=list[OpeningHours],
    )
    def hours(self, info: Info) -> list[OpeningHours] | Awaitable[list[OpeningHours]]:
        return self._answer(
            info, _HOURS, lambda rows: [OpeningHours.from_model(row) for row in rows.hours]
        )

    @strawberry.field(description="Holidays and shortened days.", graphql_type=list[HoursException])
    def exceptions(self, info: Info) -> list[HoursException] | Awaitable[list[HoursException]]:
        return self._answer(
            info,
            _EXCEPTIONS,
            lambda rows: [HoursException.from_model(row) for row in rows.exceptions],
        )

    @strawberry.field(
        description='e.g. "Mon-Fri 08:30-17:30, lunch 13:00-14:00".', graphql_type=str
    )
    def hours_text(self, info: Info) -> str | Awaitable[str]:
        return cast(str | Awaitable[str], self._derived(info, "hoursText", {}))

    @strawberry.field(
        description="Open at `at` (now when omitted), in the office's timezone.", graphql_type=bool
    )
    def is_open(self, info: Info, at: datetime | None = None) -> bool | Awaitable[bool]:
        return cast(bool | Awaitable[bool], self._derived(info, "isOpen", {"at": at}))

    @strawberry.field(
        description="When the office next opens or closes after `at` (now).",
        graphql_type=datetime | None,
    )
    def next_change(
        self, info: Info, at: datetime | None = None
    ) -> datetime | Awaitable[datetime | None] | None:
        found = self._derived(info, "nextChange", {"at": at})
        return cast(datetime | Awaitable[datetime | None] | None, found)

    @strawberry.field(
        description="schema.org GovernmentOffice as JSON-LD, for a page's structured data.",
        graphql_type=JSON,
    )
    def json_ld(self, info: Info) -> object:
        return self._derived(info, "jsonLd", {})

    def _derived(self, info: Info, name: str, arguments: Mapping[str, Any]) -> Any:
        """The declared value of field ``name`` (OFFICE), from this office's rows."""
        at = arguments.get("at")
        if at is not None:
            try:
                require_aware(at, "at")
            except DomainError as error:
                return _fail(error)
        source = OFFICE.computed(name)
        derive = source.derive
        assert derive is not None
        return self._answer(
            info, source.relations, lambda rows: derive(self.model, rows, arguments, info.context)
        )

    def _answer(
        self, info: Info, needs: frozenset[str], build: Callable[["OfficeRows"], R]
    ) -> R | Awaitable[R]:
        """``build`` from the prefetched rows, or once the DataLoaders bring the missing ones."""
        if needs <= self.children.fetched:
            return build(OfficeRows.of(self.children))
        return self._load_then(info, needs, build)

    async def _load_then(
        self, info: Info, needs: frozenset[str], build: Callable[["OfficeRows"], R]
    ) -> R:
        loaders = info.context.loaders
        children = self.children
        if "phones" in needs and children.phones is None:
            children = replace(children, phones=await loaders.phones.load(self.pk))
        if "hours" in needs and children.hours is None:
            children = replace(children, hours=await loaders.hours.load(self.pk))
        if "exceptions" in needs and children.exceptions is None:
            children = replace(children, exceptions=await loaders.exceptions.load(self.pk))
        return build(OfficeRows.of(children))


async def _fail(error: DomainError) -> NoReturn:
    """Raise ``error`` when awaited.

    A synchronous error in a non-null field stops GraphQL from running its siblings, so
    ``isOpen(at:)`` and ``nextChange(at:)`` with the same bad ``at`` would report only one
    error; failing asynchronously lets each report its own, as when both were async.
    """
    raise error
