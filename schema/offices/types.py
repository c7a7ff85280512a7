"""The ``Office`` type: address, phones, opening hours and whether it is open now."""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from enum import IntEnum
from functools import lru_cache
from typing import NoReturn, Self, TypeVar

import strawberry
from strawberry.scalars import JSON

from models import opening_hours
from models.columns import require_aware
from models.errors import DomainError
from models.office import Office, OfficeException, OfficeHours, OfficePhone
from models.phones import national_format, tel_uri
from models.services.offices import breaks_from_json, day_hours, schedule_of
from schema.context import Info
from schema.enums import PhoneKind
from schema.jsonld import government_office
from schema.node import Node, to_global_id

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


@strawberry.type
class Address:
    postal_code: str
    country: str = strawberry.field(description="ISO 3166-1 alpha-2 code, e.g. BY.")
    region: str
    locality: str
    street: str

    @strawberry.field(description="The address on one line, as written locally.")
    def formatted(self) -> str:
        parts = (self.postal_code, self.region, self.locality, self.street)
        return ", ".join(part for part in parts if part)


@strawberry.type
class Phone:
    kind: PhoneKind
    label: str | None
    e164: str = strawberry.field(description="E.164, e.g. +375171928260.")

    @classmethod
    def from_model(cls, phone: OfficePhone) -> Self:
        return cls(kind=phone.kind, label=phone.label, e164=phone.number)

    @strawberry.field(description="National format, as dialled inside the country.")
    def display(self) -> str:
        return _national_format(self.e164)

    @strawberry.field(description="A tel: URI for links.")
    def uri(self) -> str:
        return _tel_uri(self.e164)


# Parsing a number is most of the cost of an office list, and offices have few numbers.
_national_format = lru_cache(maxsize=4096)(national_format)
_tel_uri = lru_cache(maxsize=4096)(tel_uri)


@strawberry.type(name="Break")
class BreakType:
    start: time
    end: time
    label: str | None


def _breaks(raw: list[dict[str, object]]) -> list[BreakType]:
    return [BreakType(start=b.start, end=b.end, label=b.label) for b in breaks_from_json(raw)]


@strawberry.type
class OpeningHours:
    weekday: Weekday
    opens: time
    closes: time
    breaks: list[BreakType]

    @classmethod
    def from_model(cls, row: OfficeHours) -> Self:
        return cls(
            weekday=Weekday(row.weekday),
            opens=row.opens,
            closes=row.closes,
            breaks=_breaks(row.breaks),
        )


@strawberry.type(description="A dated departure from the weekly hours.")
class HoursException:
    date: date
    closed: bool
    opens: time | None
    closes: time | None
    breaks: list[BreakType]
    note: str

    @classmethod
    def from_model(cls, row: OfficeException) -> Self:
        return cls(
            date=row.day,
            closed=row.closed,
            opens=None if row.closed else row.opens,
            closes=None if row.closed else row.closes,
            breaks=[] if row.closed else _breaks(row.breaks),
            note=row.note,
        )


@dataclass(frozen=True)
class OfficeChildren:
    """An office's phones, weekly hours and dated exceptions, where fetched (else ``None``)."""

    phones: Sequence[OfficePhone] | None = None
    hours: Sequence[OfficeHours] | None = None
    exceptions: Sequence[OfficeException] | None = None

    @property
    def fetched(self) -> frozenset[str]:
        return frozenset(name for name in _ALL if getattr(self, name) is not None)


NOTHING_FETCHED = OfficeChildren()

_PHONES = frozenset({"phones"})
_HOURS = frozenset({"hours"})
_EXCEPTIONS = frozenset({"exceptions"})
_SCHEDULE = _HOURS | _EXCEPTIONS
_ALL = _PHONES | _SCHEDULE

OFFICE_FIELD_NEEDS: dict[str, frozenset[str]] = {
    "phones": _PHONES,
    "hours": _HOURS,
    "exceptions": _EXCEPTIONS,
    "hoursText": _HOURS,
    "isOpen": _SCHEDULE,
    "nextChange": _SCHEDULE,
    "jsonLd": _ALL,
}
"""The children each field of ``Office`` reads; the root resolvers prefetch these."""


@dataclass(frozen=True)
class OfficeRows:
    """Every child list a field asked for, present (those it did not ask for are empty)."""

    phones: Sequence[OfficePhone]
    hours: Sequence[OfficeHours]
    exceptions: Sequence[OfficeException]

    @classmethod
    def of(cls, children: OfficeChildren) -> "OfficeRows":
        return cls(
            phones=children.phones or (),
            hours=children.hours or (),
            exceptions=children.exceptions or (),
        )

    @property
    def weekly(self) -> dict[int, opening_hours.DayHours]:
        return {row.weekday: day for row in self.hours if (day := day_hours(row)) is not None}

    def schedule(self, office: Office) -> opening_hours.Schedule:
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
    model: strawberry.Private[Office]
    children: strawberry.Private[OfficeChildren] = NOTHING_FETCHED

    @classmethod
    def from_model(cls, office: Office, children: OfficeChildren = NOTHING_FETCHED) -> Self:
        assert office.id is not None
        return cls(
            id=to_global_id("Office", office.id),
            model=office,
            children=children,
            slug=office.slug,
            name=office.name,
            description=office.description,
            address=Address(
                postal_code=office.postal_code,
                country=office.country,
                region=office.region,
                locality=office.locality,
                street=office.street,
            ),
            email=office.email,
            website=office.website,
            timezone=office.timezone,
            latitude=office.latitude,
            longitude=office.longitude,
            updated_at=office.updated_at,
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
        return self._answer(info, _HOURS, lambda rows: opening_hours.hours_text(rows.weekly))

    @strawberry.field(
        description="Open at `at` (now when omitted), in the office's timezone.", graphql_type=bool
    )
    def is_open(self, info: Info, at: datetime | None = None) -> bool | Awaitable[bool]:
        instant = self._instant(info, at)
        if isinstance(instant, DomainError):
            return _fail(instant)
        return self._answer(
            info,
            _SCHEDULE,
            lambda rows: self._at(info, at, instant, rows, opening_hours.is_open),
        )

    @strawberry.field(
        description="When the office next opens or closes after `at` (now).",
        graphql_type=datetime | None,
    )
    def next_change(
        self, info: Info, at: datetime | None = None
    ) -> datetime | Awaitable[datetime | None] | None:
        instant = self._instant(info, at)
        if isinstance(instant, DomainError):
            return _fail(instant)
        return self._answer(
            info,
            _SCHEDULE,
            lambda rows: self._at(info, at, instant, rows, opening_hours.next_change),
        )

    @strawberry.field(
        description="schema.org GovernmentOffice as JSON-LD, for a page's structured data.",
        graphql_type=JSON,
    )
    def json_ld(self, info: Info) -> object:
        return self._answer(
            info,
            _ALL,
            lambda rows: JSON(
                government_office(self.model, rows.phones, rows.hours, rows.exceptions)
            ),
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

    def _at(
        self,
        info: Info,
        at: datetime | None,
        instant: datetime,
        rows: "OfficeRows",
        ask: Callable[[opening_hours.Schedule, datetime], R],
    ) -> R:
        """``ask`` the schedule about ``instant``; asked about "now", the answer (and so the
        whole response, for caches) expires when the office next opens or closes."""
        schedule = rows.schedule(self.model)
        if at is None:
            info.context.expire_at(opening_hours.next_change(schedule, info.context.now))
        return ask(schedule, instant)

    @staticmethod
    def _instant(info: Info, at: datetime | None) -> datetime | DomainError:
        """The instant asked about, or the error to report for it."""
        try:
            return info.context.now if at is None else require_aware(at, "at")
        except DomainError as error:
            return error


async def _fail(error: DomainError) -> NoReturn:
    """Raise ``error`` when awaited.

    A synchronous error in a non-null field stops GraphQL from running its siblings, so
    ``isOpen(at:)`` and ``nextChange(at:)`` with the same bad ``at`` would report only one
    error; failing asynchronously lets each report its own, as when both were async.
    """
    raise error
