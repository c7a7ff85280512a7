"""Offices' phones, weekly hours and dated exceptions; writing offices.

Lookups of the offices themselves go through ``models.services.catalog``.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.office import (
    Office,
    OfficeCreate,
    OfficeException,
    OfficeHours,
    OfficePhone,
    PhoneKind,
)
from models.opening_hours import DayHours, Interval, Schedule
from models.phones import normalize_phone

Child = TypeVar("Child", OfficePhone, OfficeHours, OfficeException)


async def _children(
    session: AsyncSession, model: type[Child], order: Any, office_ids: Sequence[int]
) -> list[list[Child]]:
    stmt = select(model).where(col(model.office_id).in_(office_ids)).order_by(order)
    grouped: dict[int, list[Child]] = {id: [] for id in office_ids}
    for row in (await session.exec(stmt)).all():
        grouped[row.office_id].append(row)
    return [grouped[id] for id in office_ids]


async def phones_of_offices(
    session: AsyncSession, *, office_ids: Sequence[int]
) -> list[list[OfficePhone]]:
    return await _children(session, OfficePhone, col(OfficePhone.position), office_ids)


async def hours_of_offices(
    session: AsyncSession, *, office_ids: Sequence[int]
) -> list[list[OfficeHours]]:
    return await _children(session, OfficeHours, col(OfficeHours.weekday), office_ids)


async def exceptions_of_offices(
    session: AsyncSession, *, office_ids: Sequence[int]
) -> list[list[OfficeException]]:
    return await _children(session, OfficeException, col(OfficeException.day), office_ids)


def breaks_from_json(raw: Sequence[dict[str, Any]]) -> tuple[Interval, ...]:
    return tuple(
        Interval(time.fromisoformat(b["start"]), time.fromisoformat(b["end"]), b.get("label"))
        for b in raw
    )


def breaks_to_json(breaks: Sequence[Interval]) -> list[dict[str, Any]]:
    return [
        {"start": b.start.isoformat("minutes"), "end": b.end.isoformat("minutes"), "label": b.label}
        for b in breaks
    ]


def day_hours(row: OfficeHours | OfficeException) -> DayHours | None:
    if isinstance(row, OfficeException) and (row.closed or row.opens is None or row.closes is None):
        return None
    assert row.opens is not None and row.closes is not None
    return DayHours(row.opens, row.closes, breaks_from_json(row.breaks))


def schedule_of(
    office: Office, hours: Sequence[OfficeHours], exceptions: Sequence[OfficeException]
) -> Schedule:
    """The office's opening rules as a pure value, ready for ``is_open``/``next_change``."""
    return Schedule(
        timezone=ZoneInfo(office.timezone),
        weekly={row.weekday: day for row in hours if (day := day_hours(row)) is not None},
        exceptions={row.day: day_hours(row) for row in exceptions},
    )


@dataclass(frozen=True)
class PhoneSpec:
    number: str
    kind: PhoneKind = PhoneKind.OTHER
    label: str | None = None


@dataclass(frozen=True)
class ExceptionSpec:
    day: date
    hours: DayHours | None = None  # None: closed all day
    note: str = ""


async def create_office(
    session: AsyncSession,
    *,
    data: OfficeCreate,
    phones: Sequence[PhoneSpec] = (),
    weekly: Mapping[int, DayHours] | None = None,
    exceptions: Sequence[ExceptionSpec] = (),
) -> Office:
    """Store an office with its phones (normalised to E.164) and hours, in one transaction."""
    office = Office.model_validate(data)
    session.add(office)
    await session.flush()
    assert office.id is not None
    for position, phone in enumerate(phones):
        number = normalize_phone(phone.number, data.country, field=f"phones.{position}.number")
        session.add(
            OfficePhone(
                office_id=office.id,
                position=position,
                kind=phone.kind,
                label=phone.label,
                number=number,
            )
        )
    for weekday, hours in (weekly or {}).items():
        session.add(
            OfficeHours(
                office_id=office.id,
                weekday=weekday,
                opens=hours.opens,
                closes=hours.closes,
                breaks=breaks_to_json(hours.breaks),
            )
        )
    for exception in exceptions:
        special = exception.hours
        session.add(
            OfficeException(
                office_id=office.id,
                day=exception.day,
                closed=special is None,
                opens=special.opens if special else None,
                closes=special.closes if special else None,
                breaks=breaks_to_json(special.breaks) if special else [],
                note=exception.note,
            )
        )
    await session.commit()
    return office
