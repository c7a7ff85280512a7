"""Offices' phones, weekly hours and dated exceptions; writing offices.

Lookups of the offices themselves go through ``models.services.catalog``.

The admin's use cases (``add_office``, ``update_office``, ``delete_office``) each are
one transaction: the office row, its phones, hours and exceptions and the audit entry
commit together or not at all. ``create_office`` is the unchecked insert for the seed
and test data.
"""

import functools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import orjson
import phonenumbers
import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from models.columns import utcnow
from models.db import dialect_of, one_of_parameter, table_of
from models.errors import DomainError, Duplicate, InvalidInput, NotFound, Required
from models.office import (
    DEFAULT_COUNTRY,
    ENTRY_LISTS,
    ExceptionEntry,
    HoursEntry,
    Office,
    OfficeCreate,
    OfficeException,
    OfficeHours,
    OfficeInput,
    OfficePatch,
    OfficePhone,
    OfficeRead,
    PhoneEntry,
    PhoneKind,
    StoredException,
    StoredHours,
    StoredPhone,
)
from models.opening_hours import WEEKDAY_ABBR, DayHours, Interval, Schedule, validate_day
from models.phones import normalize_phone
from models.services import audit, events
from models.services.catalog import (
    delete_named,
    duplicate_slug,
    free_slug,
    slug_from_name,
    slug_taken,
)
from models.validation import check, raise_all
from models.viewer import Viewer

ENTITY = "office"
Entry = TypeVar("Entry", bound=BaseModel)

Child = TypeVar("Child", OfficePhone, OfficeHours, OfficeException)


async def _children(
    session: AsyncSession, model: type[Child], order: str, office_ids: Sequence[int]
) -> list[list[sa.Row[Any]]]:
    """Each office's rows of ``model``'s table in ``order``: plain rows (no ORM instances).

    JSON columns (a day's breaks) come as their text, for :func:`breaks_from_json`.
    """
    grouped: dict[int, list[sa.Row[Any]]] = {id: [] for id in office_ids}
    connection = await session.connection()  # Core rows: the ORM adds nothing to a read
    stmt = _children_statement(model, order, dialect_of(session))
    for row in (await connection.execute(stmt, {_OFFICE_IDS: list(office_ids)})).all():
        grouped[row.office_id].append(row)
    return [grouped[id] for id in office_ids]


_OFFICE_IDS = "vestnik_office_ids"


@functools.lru_cache(maxsize=16)
def _children_statement(model: type[Child], order: str, dialect: str) -> sa.Select[Any]:
    """Built once per table and database: three of them on every offices page."""
    table = table_of(model)
    columns = [
        sa.cast(column, sa.Text).label(column.key) if isinstance(column.type, sa.JSON) else column
        for column in table.columns
    ]
    return (
        sa.select(*columns)
        .where(one_of_parameter(dialect, table.c.office_id, _OFFICE_IDS))
        .order_by(table.c[order])
    )


async def phones_of_offices(
    session: AsyncSession, *, office_ids: Sequence[int]
) -> list[list[StoredPhone]]:
    return await _children(session, OfficePhone, "position", office_ids)


async def hours_of_offices(
    session: AsyncSession, *, office_ids: Sequence[int]
) -> list[list[StoredHours]]:
    return await _children(session, OfficeHours, "weekday", office_ids)


async def exceptions_of_offices(
    session: AsyncSession, *, office_ids: Sequence[int]
) -> list[list[StoredException]]:
    return await _children(session, OfficeException, "day", office_ids)


@functools.lru_cache(maxsize=4096)
def breaks_from_json(text: str) -> tuple[Interval, ...]:
    """A day's breaks from the JSON text of a read row. Kept by text: offices mostly share
    their hours, so a page's hundreds of rows (each parsed for its display and for the
    schedule) hold a few distinct texts."""
    return tuple(
        Interval(time.fromisoformat(b["start"]), time.fromisoformat(b["end"]), b.get("label"))
        for b in orjson.loads(text)
    )


def breaks_to_json(breaks: Sequence[Interval]) -> list[dict[str, Any]]:
    return [
        {"start": b.start.isoformat("minutes"), "end": b.end.isoformat("minutes"), "label": b.label}
        for b in breaks
    ]


def weekly_hours(row: StoredHours) -> DayHours:
    """A weekday's hours as stored."""
    return DayHours(row.opens, row.closes, breaks_from_json(row.breaks))


def exception_hours(row: StoredException) -> DayHours | None:
    """An exception's hours as stored; None: closed all day."""
    if row.closed or row.opens is None or row.closes is None:
        return None
    return DayHours(row.opens, row.closes, breaks_from_json(row.breaks))


def schedule_of(
    office: OfficeRead, hours: Sequence[StoredHours], exceptions: Sequence[StoredException]
) -> Schedule:
    """The office's opening rules as a pure value, ready for ``is_open``/``next_change``."""
    return Schedule(
        timezone=ZoneInfo(office.timezone),
        weekly={row.weekday: weekly_hours(row) for row in hours},
        exceptions=_ExceptionDays({row.day: row for row in exceptions}),
    )


class _ExceptionDays(Mapping[date, DayHours | None]):
    """An office's exceptions by day, each made into hours only when asked for: "open now?"
    looks at a few days of the dozens an office keeps."""

    def __init__(self, rows: dict[date, StoredException]):
        self._rows = rows

    def __getitem__(self, day: date) -> DayHours | None:
        return exception_hours(self._rows[day])

    def __contains__(self, day: object) -> bool:
        return day in self._rows

    def __iter__(self) -> Iterator[date]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


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
    """Store an office exactly as given (seed content, test data): no checks, no audit.

    Phones are still normalised to E.164, as every stored number is.
    """
    office = Office.model_validate(data)
    session.add(office)
    await session.flush()
    _write_phones(session, office, phones)
    _write_hours(session, office, weekly or {})
    _write_exceptions(session, office, exceptions)
    events.content_changed(session)
    await session.commit()
    return office


async def add_office(session: AsyncSession, *, viewer: Viewer, data: dict[str, Any]) -> Office:
    """A new office from an admin's input; the slug comes from the name when not given."""
    given, errors = check(OfficeInput, data)
    country = given.country if given is not None else _raw_country(data, DEFAULT_COUNTRY)
    errors += _entry_problems(data, country)
    if (
        given is not None
        and given.slug is not None
        and await slug_taken(session, Office, given.slug)
    ):
        errors.append(duplicate_slug(given.slug))
    raise_all(errors)
    assert given is not None
    slug = given.slug or await free_slug(session, Office, slug_from_name(given.name, ENTITY))
    office = Office.model_validate(
        OfficeCreate(
            slug=slug,
            website=str(given.website) if given.website else None,
            **given.model_dump(exclude={"slug", "website", *ENTRY_LISTS}),
        )
    )
    session.add(office)
    try:
        await session.flush()
        _write_phones(session, office, _phones(given.phones), country)
        _write_hours(session, office, _weekly(given.hours))
        _write_exceptions(session, office, _exceptions(given.exceptions))
        audit.record(session, viewer, "office.created", ENTITY, office.id, slug=slug)
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise duplicate_slug(slug) from None
    return office


async def update_office(
    session: AsyncSession, *, viewer: Viewer, id: int, data: dict[str, Any]
) -> Office:
    """Apply the given fields; a list that is given replaces the whole stored list.

    An input that changes nothing writes nothing.
    """
    patch, errors = check(OfficePatch, data)
    office = await session.get(Office, id)
    if office is None:
        errors.insert(0, NotFound("No office with this ID", field="id"))
    stored_country = office.country if office is not None else None
    errors += OfficePatch.nulled_required(data)
    if patch is not None:
        country = patch.country or stored_country
    else:
        country = _raw_country(data, stored_country)
    errors += _entry_problems(data, country)
    raise_all(errors)
    assert office is not None and patch is not None
    after = {
        name: getattr(patch, name)
        for name in OfficePatch.model_fields
        if name in patch.model_fields_set and name not in ENTRY_LISTS
    }
    if after.get("website") is not None:
        after["website"] = str(after["website"])
    changed = [name for name, value in after.items() if getattr(office, name) != value]
    if "slug" in changed and await slug_taken(session, Office, after["slug"], own_id=id):
        raise_all([duplicate_slug(after["slug"])])
    country = patch.country or office.country
    replaced = await _replaced_lists(session, office, patch, country)
    if not changed and not replaced:
        return office
    for name in changed:
        setattr(office, name, after[name])
    office.updated_at = utcnow()
    try:
        for model in replaced.values():
            await session.exec(sa.delete(model).where(col(model.office_id) == id))
        if patch.phones is not None and "phones" in replaced:
            _write_phones(session, office, _phones(patch.phones), country)
        if patch.hours is not None and "hours" in replaced:
            _write_hours(session, office, _weekly(patch.hours))
        if patch.exceptions is not None and "exceptions" in replaced:
            _write_exceptions(session, office, _exceptions(patch.exceptions))
        fields = sorted([*changed, *replaced])
        audit.record(session, viewer, "office.updated", ENTITY, id, fields=fields)
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise duplicate_slug(office.slug) from None
    return office


async def delete_office(session: AsyncSession, *, viewer: Viewer, id: int) -> int:
    """Remove the office; its phones, hours and exceptions go with it (cascade)."""
    return await delete_named(session, viewer=viewer, model=Office, id=id)


async def _replaced_lists(
    session: AsyncSession, office: Office, patch: OfficePatch, country: str
) -> dict[str, type[OfficePhone | OfficeHours | OfficeException]]:
    """The lists the patch gives that differ from the stored ones, with their tables."""
    assert office.id is not None
    ids = [office.id]
    replaced: dict[str, type[OfficePhone | OfficeHours | OfficeException]] = {}
    if patch.phones is not None:
        (rows,) = await phones_of_offices(session, office_ids=ids)
        stored = [PhoneSpec(row.number, PhoneKind(row.kind), row.label) for row in rows]
        given = [
            PhoneSpec(normalize_phone(p.number, country), p.kind, p.label)
            for p in _phones(patch.phones)
        ]
        if given != stored:
            replaced["phones"] = OfficePhone
    if patch.hours is not None:
        (hours,) = await hours_of_offices(session, office_ids=ids)
        if _weekly(patch.hours) != {row.weekday: weekly_hours(row) for row in hours}:
            replaced["hours"] = OfficeHours
    if patch.exceptions is not None:
        (days,) = await exceptions_of_offices(session, office_ids=ids)
        stored_days = {row.day: (exception_hours(row), row.note) for row in days}
        given_days = {e.day: (e.hours, e.note) for e in _exceptions(patch.exceptions)}
        if given_days != stored_days:
            replaced["exceptions"] = OfficeException
    return replaced


# --- rules across fields -------------------------------------------------------------------


def _raw_country(data: dict[str, Any], default: str | None) -> str | None:
    """The country phones are checked in when the input as a whole did not validate."""
    raw = data.get("country", default)
    if isinstance(raw, str) and raw.strip() in phonenumbers.SUPPORTED_REGIONS:
        return raw.strip()
    return None


def _valid_entries(
    model: type[Entry], data: dict[str, Any], name: str
) -> Iterator[tuple[int, Entry]]:
    """The entries of one list that are well-formed on their own, with their positions.

    The rules across fields run on these even when another field is wrong, so one
    round of fixes is enough; malformed entries are already reported by ``check``.
    """
    items = data.get(name)
    if not isinstance(items, list):
        return
    for position, item in enumerate(items):
        entry, _ = check(model, item if isinstance(item, dict) else {})
        if entry is not None:
            yield position, entry


def _entry_problems(data: dict[str, Any], country: str | None) -> list[DomainError]:
    """Phones that are no number in the office's country, bad hours, repeated days."""
    problems: list[DomainError] = []
    if country is not None:  # a bad country is reported already; no number can be judged
        for i, phone in _valid_entries(PhoneEntry, data, "phones"):
            try:
                normalize_phone(phone.number, country, field=f"phones.{i}.number")
            except InvalidInput as problem:
                problems.append(problem)
    weekdays: set[int] = set()
    for i, day in _valid_entries(HoursEntry, data, "hours"):
        if day.weekday in weekdays:
            name = WEEKDAY_ABBR[day.weekday - 1]
            problems.append(Duplicate(f"{name} is listed more than once", f"hours.{i}.weekday"))
        weekdays.add(day.weekday)
        problems += _day_problems(day.day_hours(), f"hours.{i}")
    dates: set[date] = set()
    for i, special in _valid_entries(ExceptionEntry, data, "exceptions"):
        field = f"exceptions.{i}"
        if special.date in dates:
            problems.append(Duplicate(f"{special.date} is listed more than once", f"{field}.date"))
        dates.add(special.date)
        problems += _exception_problems(special, field)
    return problems


def _exception_problems(special: ExceptionEntry, field: str) -> list[DomainError]:
    if special.closed:
        if special.opens is not None or special.closes is not None or special.breaks:
            return [
                InvalidInput(
                    "A closed day has no hours: set closed to false to give them",
                    field=f"{field}.closed",
                )
            ]
        return []
    missing: list[DomainError] = [
        Required("A day that is not closed needs this", field=f"{field}.{name}")
        for name in ("opens", "closes")
        if getattr(special, name) is None
    ]
    hours = special.day_hours()
    return missing if hours is None else _day_problems(hours, field)


def _day_problems(hours: DayHours, field: str) -> list[DomainError]:
    """``validate_day``'s problems, each on the field it is about."""
    span = validate_day(DayHours(hours.opens, hours.closes))
    problems: list[DomainError] = [
        InvalidInput(_sentence(p), field=f"{field}.closes") for p in span
    ]
    problems += [
        InvalidInput(_sentence(p), field=f"{field}.breaks")
        for p in validate_day(hours)
        if p not in span
    ]
    return problems


def _sentence(problem: str) -> str:
    return problem[:1].upper() + problem[1:]


# --- writing ------------------------------------------------------------------------------


def _phones(entries: Sequence[PhoneEntry]) -> list[PhoneSpec]:
    return [PhoneSpec(e.number, e.kind, e.label) for e in entries]


def _weekly(entries: Sequence[HoursEntry]) -> dict[int, DayHours]:
    return {e.weekday: e.day_hours() for e in entries}


def _exceptions(entries: Sequence[ExceptionEntry]) -> list[ExceptionSpec]:
    return [ExceptionSpec(e.date, e.day_hours(), e.note) for e in entries]


def _write_phones(
    session: AsyncSession, office: Office, phones: Sequence[PhoneSpec], country: str | None = None
) -> None:
    assert office.id is not None
    for position, phone in enumerate(phones):
        number = normalize_phone(
            phone.number, country or office.country, field=f"phones.{position}.number"
        )
        session.add(
            OfficePhone(
                office_id=office.id,
                position=position,
                kind=phone.kind,
                label=phone.label,
                number=number,
            )
        )


def _write_hours(session: AsyncSession, office: Office, weekly: Mapping[int, DayHours]) -> None:
    assert office.id is not None
    for weekday, hours in sorted(weekly.items()):
        session.add(
            OfficeHours(
                office_id=office.id,
                weekday=weekday,
                opens=hours.opens,
                closes=hours.closes,
                breaks=breaks_to_json(hours.breaks),
            )
        )


def _write_exceptions(
    session: AsyncSession, office: Office, exceptions: Sequence[ExceptionSpec]
) -> None:
    assert office.id is not None
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
