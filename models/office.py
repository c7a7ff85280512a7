"""Offices: a public body's contact block, its phones and opening hours.

Breaks inside a day (lunch) are a short list stored as JSON on the day's row:
they are always read and written together with the day.
"""

from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.columns import UTCDateTime, utcnow


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
    country: str = Field(default="BY", max_length=2)
    region: str = Field(default="", max_length=200)
    locality: str = Field(default="", max_length=200)
    street: str = Field(default="", max_length=300)
    email: str | None = Field(default=None, max_length=320)
    website: str | None = Field(default=None, max_length=2000)
    timezone: str = Field(default="Europe/Minsk", max_length=64)
    latitude: float | None = None
    longitude: float | None = None


class Office(OfficeBase, table=True):
    __table_args__ = (sa.Index("ix_office_name", "name", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


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
