"""Office mutation inputs. Every field is optional here: the domain decides what is
required, so a missing name or number comes back as a ``UserError`` next to the field."""

import datetime as dt
from datetime import time
from typing import Any

import strawberry

from schema.enums import PhoneKind
from schema.inputs import provided
from schema.offices.types import Weekday


def _given(**fields: Any) -> dict[str, Any]:
    """The fields sent with a value: in a list entry, null means "use the default"."""
    return {name: value for name, value in provided(**fields).items() if value is not None}


@strawberry.input
class PhoneInput:
    kind: PhoneKind | None = strawberry.UNSET
    label: str | None = strawberry.UNSET
    number: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="As written, e.g. +375 (1719) 28-2-60; read in the office's country.",
    )

    def to_data(self) -> dict[str, Any]:
        return _given(kind=self.kind, label=self.label, number=self.number)


@strawberry.input
class BreakInput:
    start: time | None = strawberry.UNSET
    end: time | None = strawberry.UNSET
    label: str | None = strawberry.UNSET

    def to_data(self) -> dict[str, Any]:
        return _given(start=self.start, end=self.end, label=self.label)


def _breaks(breaks: list[BreakInput] | None) -> list[dict[str, Any]] | None:
    return None if breaks is None else [b.to_data() for b in breaks]


@strawberry.input(description="Regular hours on one weekday, local time in the office's zone.")
class OpeningHoursInput:
    weekday: Weekday | None = strawberry.UNSET
    opens: time | None = strawberry.UNSET
    closes: time | None = strawberry.UNSET
    breaks: list[BreakInput] | None = strawberry.UNSET

    def to_data(self) -> dict[str, Any]:
        weekday = self.weekday.value if isinstance(self.weekday, Weekday) else self.weekday
        breaks = _breaks(self.breaks) if self.breaks is not strawberry.UNSET else self.breaks
        return _given(weekday=weekday, opens=self.opens, closes=self.closes, breaks=breaks)


@strawberry.input(description="A holiday (closed) or a day with hours of its own.")
class HoursExceptionInput:
    # ``datetime.date`` spelled in full: this class's own ``date`` field shadows the name.
    date: dt.date | None = strawberry.UNSET
    closed: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Default true; false needs opens and closes."
    )
    opens: time | None = strawberry.UNSET
    closes: time | None = strawberry.UNSET
    breaks: list[BreakInput] | None = strawberry.UNSET
    note: str | None = strawberry.UNSET

    def to_data(self) -> dict[str, Any]:
        breaks = _breaks(self.breaks) if self.breaks is not strawberry.UNSET else self.breaks
        return _given(
            date=self.date,
            closed=self.closed,
            opens=self.opens,
            closes=self.closes,
            breaks=breaks,
            note=self.note,
        )


@strawberry.input
class _OfficeFields:
    """The fields both office inputs carry; never exposed under this name."""

    name: str | None = strawberry.UNSET
    slug: str | None = strawberry.field(
        default=strawberry.UNSET, description="Generated from the name when omitted on create."
    )
    description: str | None = strawberry.UNSET
    postal_code: str | None = strawberry.UNSET
    country: str | None = strawberry.field(
        default=strawberry.UNSET, description="ISO 3166-1 alpha-2 code; BY when omitted."
    )
    region: str | None = strawberry.UNSET
    locality: str | None = strawberry.UNSET
    street: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    website: str | None = strawberry.field(
        default=strawberry.UNSET, description="An http or https URL."
    )
    timezone: str | None = strawberry.field(
        default=strawberry.UNSET, description="IANA name; Europe/Minsk when omitted."
    )
    latitude: float | None = strawberry.UNSET
    longitude: float | None = strawberry.UNSET
    phones: list[PhoneInput] | None = strawberry.field(
        default=strawberry.UNSET, description="In display order; on update, replaces them all."
    )
    hours: list[OpeningHoursInput] | None = strawberry.field(
        default=strawberry.UNSET,
        description="One entry per open weekday; on update, replaces the whole week.",
    )
    exceptions: list[HoursExceptionInput] | None = strawberry.field(
        default=strawberry.UNSET, description="One entry per date; on update, replaces them all."
    )

    def _sent(self) -> dict[str, Any]:
        """The fields the client sent, ``null`` included; list entries as plain data."""
        data = provided(
            name=self.name,
            slug=self.slug,
            description=self.description,
            postal_code=self.postal_code,
            country=self.country,
            region=self.region,
            locality=self.locality,
            street=self.street,
            email=self.email,
            website=self.website,
            timezone=self.timezone,
            latitude=self.latitude,
            longitude=self.longitude,
        )
        entries = provided(phones=self.phones, hours=self.hours, exceptions=self.exceptions)
        for name, items in entries.items():
            data[name] = None if items is None else [item.to_data() for item in items]
        return data


@strawberry.input
class CreateOfficeInput(_OfficeFields):
    def to_data(self) -> dict[str, Any]:
        return {name: value for name, value in self._sent().items() if value is not None}


@strawberry.input(
    description="Only the fields given change; null clears email, website, latitude and "
    "longitude; a list given replaces the whole list ([] empties it)."
)
class UpdateOfficeInput(_OfficeFields):
    def to_data(self) -> dict[str, Any]:
        return self._sent()
