"""The ``Office`` type: address, phones, opening hours and whether it is open now."""

from datetime import date, datetime, time
from enum import IntEnum
from typing import Self

import strawberry
from strawberry.scalars import JSON

from models import opening_hours
from models.columns import require_aware
from models.office import Office, OfficeException, OfficeHours, OfficePhone
from models.phones import national_format, tel_uri
from models.services.offices import breaks_from_json, schedule_of
from schema.context import Info
from schema.enums import PhoneKind
from schema.jsonld import government_office
from schema.node import Node, to_global_id


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
        return national_format(self.e164)

    @strawberry.field(description="A tel: URI for links.")
    def uri(self) -> str:
        return tel_uri(self.e164)


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

    @classmethod
    def from_model(cls, office: Office) -> Self:
        assert office.id is not None
        return cls(
            id=to_global_id("Office", office.id),
            model=office,
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

    @strawberry.field
    async def phones(self, info: Info) -> list[Phone]:
        return [Phone.from_model(p) for p in await info.context.loaders.phones.load(self.pk)]

    @strawberry.field(description="Regular weekly hours; days not listed are closed.")
    async def hours(self, info: Info) -> list[OpeningHours]:
        rows = await info.context.loaders.hours.load(self.pk)
        return [OpeningHours.from_model(row) for row in rows]

    @strawberry.field(description="Holidays and shortened days.")
    async def exceptions(self, info: Info) -> list[HoursException]:
        rows = await info.context.loaders.exceptions.load(self.pk)
        return [HoursException.from_model(row) for row in rows]

    @strawberry.field(description='e.g. "Mon-Fri 08:30-17:30, lunch 13:00-14:00".')
    async def hours_text(self, info: Info) -> str:
        return opening_hours.hours_text((await self._schedule(info)).weekly)

    @strawberry.field(description="Open at `at` (now when omitted), in the office's timezone.")
    async def is_open(self, info: Info, at: datetime | None = None) -> bool:
        schedule = await self._schedule(info)
        self._expires_with(info, schedule, at)
        return opening_hours.is_open(schedule, self._instant(info, at))

    @strawberry.field(description="When the office next opens or closes after `at` (now).")
    async def next_change(self, info: Info, at: datetime | None = None) -> datetime | None:
        schedule = await self._schedule(info)
        self._expires_with(info, schedule, at)
        return opening_hours.next_change(schedule, self._instant(info, at))

    @strawberry.field(
        description="schema.org GovernmentOffice as JSON-LD, for a page's structured data."
    )
    async def json_ld(self, info: Info) -> JSON:
        loaders = info.context.loaders
        phones = await loaders.phones.load(self.pk)
        hours = await loaders.hours.load(self.pk)
        exceptions = await loaders.exceptions.load(self.pk)
        return JSON(government_office(self.model, phones, hours, exceptions))

    async def _schedule(self, info: Info) -> opening_hours.Schedule:
        loaders = info.context.loaders
        hours = await loaders.hours.load(self.pk)
        exceptions = await loaders.exceptions.load(self.pk)
        return schedule_of(self.model, hours, exceptions)

    @staticmethod
    def _expires_with(info: Info, schedule: opening_hours.Schedule, at: datetime | None) -> None:
        """Asked about "now", the answer changes when the office next opens or closes."""
        if at is None:
            info.context.expire_at(opening_hours.next_change(schedule, info.context.now))

    @staticmethod
    def _instant(info: Info, at: datetime | None) -> datetime:
        return info.context.now if at is None else require_aware(at, "at")
