"""Offices: a public body's contact block, its phones and opening hours.

Breaks inside a day (lunch) are a short list stored as JSON on the day's row:
they are always read and written together with the day.

``OfficeInput``/``OfficePatch`` are an admin's input, checked field by field here;
the rules across fields (a day's hours, a weekday given twice, phone numbers in the
office's country) live in ``models.services.offices``.
"""

from datetime import date, datetime, time
from enum import StrEnum
from functools import cache
from typing import Annotated, Any, ClassVar, TypeAlias
from zoneinfo import available_timezones

import phonenumbers
import pydantic
import sqlalchemy as sa
from pydantic import AfterValidator, EmailStr
from sqlmodel import Field, SQLModel

from models.columns import UTCDateTime, utcnow
from models.inputs import SLUG_PATTERN, EditorInput, WebUrl
from models.opening_hours import DayHours, Interval

DEFAULT_COUNTRY = "BY"
DEFAULT_TIMEZONE = "Europe/Minsk"


class PhoneKind(StrEnum):
    RECEPTION = "reception"
    HOTLINE = "hotline"
    FAX = "fax"
    OTHER = "other"


class OfficeBase(SQLModel):
    slug: str = Field(max_length=100, unique=True)
    name: str = Field(max_length=300)
    description: str = Field(default="", max_length=5000)
    postal_code: str = Field(default="", max_length=20)
    country: str = Field(default=DEFAULT_COUNTRY, max_length=2)
    region: str = Field(default="", max_length=200)
    locality: str = Field(default="", max_length=200)
    street: str = Field(default="", max_length=300)
    email: str | None = Field(default=None, max_length=320)
    website: str | None = Field(default=None, max_length=2000)
    timezone: str = Field(default=DEFAULT_TIMEZONE, max_length=64)
    latitude: float | None = None
    longitude: float | None = None


class Office(OfficeBase, table=True):
    __table_args__ = (sa.Index("ix_office_name", "name", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


OfficeRead: TypeAlias = Office | sa.Row[Any]
"""An office as read: the instance (a mutation's), or a row of its columns by name."""


class OfficeCreate(OfficeBase):
    pass


class OfficePhone(SQLModel, table=True):
    __tablename__ = "office_phone"

    id: int | None = Field(default=None, primary_key=True)
    office_id: int = Field(foreign_key="office.id", ondelete="CASCADE", index=True)
    position: int = Field(default=0)
    kind: PhoneKind = Field(default=PhoneKind.OTHER, sa_type=sa.String(16))
    label: str | None = Field(default=None, max_length=200)
    # E.164, normalised through `phonenumbers` before it is stored.
    number: str = Field(max_length=20)


# Phones, hours and exceptions as read: rows (read by column name), not ORM instances.
# The offices page reads some 800 of them, and building ORM instances was a quarter of its
# time; nothing changes them after a read.
StoredPhone: TypeAlias = sa.Row[Any]
StoredHours: TypeAlias = sa.Row[Any]
StoredException: TypeAlias = sa.Row[Any]


class OfficeHours(SQLModel, table=True):
    """Regular opening on one ISO weekday (1 = Monday ... 7 = Sunday)."""

    __tablename__ = "office_hours"
    __table_args__ = (sa.UniqueConstraint("office_id", "weekday", name="uq_office_hours_day"),)

    id: int | None = Field(default=None, primary_key=True)
    office_id: int = Field(foreign_key="office.id", ondelete="CASCADE", index=True)
    weekday: int = Field(ge=1, le=7)
    opens: time
    closes: time
    # [{"start": "13:00", "end": "14:00", "label": "lunch"}, ...]
    breaks: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)


class OfficeException(SQLModel, table=True):
    """A dated departure from the weekly hours: a public holiday or a shortened day."""

    __tablename__ = "office_exception"
    __table_args__ = (sa.UniqueConstraint("office_id", "day", name="uq_office_exception_day"),)

    id: int | None = Field(default=None, primary_key=True)
    office_id: int = Field(foreign_key="office.id", ondelete="CASCADE", index=True)
    day: date
    closed: bool = True
    opens: time | None = None
    closes: time | None = None
    breaks: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    note: str = Field(default="", max_length=300)


# --- an admin's input ------------------------------------------------------------------------


def _known_country(code: str) -> str:
    # libphonenumber's regions are the ISO 3166-1 alpha-2 codes that have a numbering plan
    # (plus XK, AC, TA); phones are checked in the office's country, so it must be one.
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError("Use an ISO 3166-1 alpha-2 country code in capitals, e.g. BY")
    return code


@cache
def _timezone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def _known_timezone(name: str) -> str:
    if name not in _timezone_names():
        raise ValueError("Use an IANA timezone name, e.g. Europe/Minsk")
    return name


def _wall_clock(value: time) -> time:
    # Hours are wall-clock times in the office's timezone; an offset would make them
    # incomparable with the rest, and breaks are stored to the minute.
    if value.tzinfo is not None:
        raise ValueError("Give a local time without a UTC offset, e.g. 08:30")
    if value.second or value.microsecond:
        raise ValueError("Give the time in whole minutes, e.g. 08:30")
    return value


Country = Annotated[str, AfterValidator(_known_country)]
TimezoneName = Annotated[str, AfterValidator(_known_timezone)]
Clock = Annotated[time, AfterValidator(_wall_clock)]


class PhoneEntry(EditorInput):
    """A phone as written by a person; normalised to E.164 in the office's country."""

    kind: PhoneKind = PhoneKind.OTHER
    label: str | None = pydantic.Field(default=None, max_length=200)
    number: str = pydantic.Field(min_length=1, max_length=50)


class BreakEntry(EditorInput):
    start: Clock
    end: Clock
    label: str | None = pydantic.Field(default=None, max_length=100)


def _day(opens: time, closes: time, breaks: list[BreakEntry]) -> DayHours:
    return DayHours(opens, closes, tuple(Interval(b.start, b.end, b.label) for b in breaks))


class HoursEntry(EditorInput):
    """Regular hours on one ISO weekday (1 = Monday ... 7 = Sunday)."""

    weekday: int = pydantic.Field(ge=1, le=7)
    opens: Clock
    closes: Clock
    breaks: list[BreakEntry] = pydantic.Field(default_factory=list, max_length=10)

    def day_hours(self) -> DayHours:
        return _day(self.opens, self.closes, self.breaks)


class ExceptionEntry(EditorInput):
    """A dated departure from the week: closed all day, or open with hours of its own."""

    date: date
    closed: bool = True
    opens: Clock | None = None
    closes: Clock | None = None
    breaks: list[BreakEntry] = pydantic.Field(default_factory=list, max_length=10)
    note: str = pydantic.Field(default="", max_length=300)

    def day_hours(self) -> DayHours | None:
        """The day's hours; ``None`` when closed (or, before the rules ran, incomplete)."""
        if self.closed or self.opens is None or self.closes is None:
            return None
        return _day(self.opens, self.closes, self.breaks)


# The lists an office input carries; on update, giving one replaces all of it.
ENTRY_LISTS = ("phones", "hours", "exceptions")


class OfficeInput(EditorInput):
    """An admin's new office; validated all at once (see models.validation)."""

    name: str = pydantic.Field(min_length=1, max_length=300)
    slug: str | None = pydantic.Field(default=None, max_length=100, pattern=SLUG_PATTERN)
    description: str = pydantic.Field(default="", max_length=5000)
    postal_code: str = pydantic.Field(default="", max_length=20)
    country: Country = DEFAULT_COUNTRY
    region: str = pydantic.Field(default="", max_length=200)
    locality: str = pydantic.Field(default="", max_length=200)
    street: str = pydantic.Field(default="", max_length=300)
    email: EmailStr | None = None
    website: WebUrl | None = None
    timezone: TimezoneName = DEFAULT_TIMEZONE
    latitude: float | None = pydantic.Field(default=None, ge=-90, le=90)
    longitude: float | None = pydantic.Field(default=None, ge=-180, le=180)
    phones: list[PhoneEntry] = pydantic.Field(default_factory=list, max_length=20)
    # No length limit on hours: an eighth day is reported as a DUPLICATE weekday instead.
    hours: list[HoursEntry] = pydantic.Field(default_factory=list)
    exceptions: list[ExceptionEntry] = pydantic.Field(default_factory=list, max_length=400)


class OfficePatch(EditorInput):
    """The fields an update changes; absent fields stay as they are."""

    name: str | None = pydantic.Field(default=None, min_length=1, max_length=300)
    slug: str | None = pydantic.Field(default=None, max_length=100, pattern=SLUG_PATTERN)
    description: str | None = pydantic.Field(default=None, max_length=5000)
    postal_code: str | None = pydantic.Field(default=None, max_length=20)
    country: Country | None = None
    region: str | None = pydantic.Field(default=None, max_length=200)
    locality: str | None = pydantic.Field(default=None, max_length=200)
    street: str | None = pydantic.Field(default=None, max_length=300)
    email: EmailStr | None = None
    website: WebUrl | None = None
    timezone: TimezoneName | None = None
    latitude: float | None = pydantic.Field(default=None, ge=-90, le=90)
    longitude: float | None = pydantic.Field(default=None, ge=-180, le=180)
    phones: list[PhoneEntry] | None = pydantic.Field(default=None, max_length=20)
    hours: list[HoursEntry] | None = None
    exceptions: list[ExceptionEntry] | None = pydantic.Field(default=None, max_length=400)

    # Fields that may be cleared by sending null; the rest must have a value when sent
    # (an empty list clears phones, hours or exceptions).
    NULLABLE: ClassVar[frozenset[str]] = frozenset({"email", "website", "latitude", "longitude"})
