"""Office opening hours: when is an office open, when does that change, and how to say it.

Pure domain rules with no database, so the API, the seed data and the tests share one answer.
Hours are local wall-clock times in the schedule's timezone; instants are aware datetimes.
"""

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import combinations
from zoneinfo import ZoneInfo

WEEKDAY_ABBR = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
"""Short English weekday names, indexed by ISO weekday - 1."""

LOOKAHEAD_DAYS = 400
"""How far ``next_change`` searches: over a year, so annual holidays are always seen."""


@dataclass(frozen=True)
class Interval:
    """A break inside a working day, e.g. lunch; half-open ``[start, end)``."""

    start: time
    end: time
    label: str | None = None


@dataclass(frozen=True)
class DayHours:
    """One day's opening, ``[opens, closes)`` minus the breaks."""

    opens: time
    closes: time
    breaks: tuple[Interval, ...] = ()


@dataclass(frozen=True)
class Schedule:
    """An office's weekly hours plus dated overrides, in the office's own timezone.

    Attributes:
        timezone: where the wall-clock times in ``weekly`` and ``exceptions`` apply.
        weekly: ISO weekday (1=Monday..7=Sunday) to hours; a missing weekday is closed.
        exceptions: a dated override that wins over ``weekly``; ``None`` closes the whole day.
    """

    timezone: ZoneInfo
    weekly: Mapping[int, DayHours]
    exceptions: Mapping[date, DayHours | None] = field(default_factory=dict)


def hours_on(schedule: Schedule, day: date) -> DayHours | None:
    """The hours for a local date, ``None`` when closed; a dated exception wins over the week."""
    if day in schedule.exceptions:
        return schedule.exceptions[day]
    return schedule.weekly.get(day.isoweekday())


def is_open(schedule: Schedule, at: datetime) -> bool:
    """Whether the office is open at an instant.

    Raises:
        ValueError: ``at`` is naive; guessing its timezone would give wrong answers silently.
    """
    if at.utcoffset() is None:
        raise ValueError("at must be a timezone-aware datetime")
    # Going through UTC normalises wall times that do not exist or are ambiguous in the zone
    # (astimezone is a no-op when ``at`` already carries the schedule's tzinfo).
    local = at.astimezone(UTC).astimezone(schedule.timezone)
    hours = hours_on(schedule, local.date())
    if hours is None:
        return False
    t = local.time()
    return hours.opens <= t < hours.closes and not any(b.start <= t < b.end for b in hours.breaks)


def next_change(schedule: Schedule, at: datetime) -> datetime | None:
    """The first instant strictly after ``at`` where ``is_open`` flips, in the schedule's zone.

    Every flip happens at a wall-clock boundary of some day (taken in both folds, for DST
    overlaps) or at a UTC offset change (a DST gap can skip over ``opens``), so only those
    candidates are tested. ``None`` when nothing changes within ``LOOKAHEAD_DAYS``.
    """
    was_open = is_open(schedule, at)
    return _first_candidate(schedule, at, lambda c: is_open(schedule, c) != was_open)


def next_boundary(schedule: Schedule, at: datetime) -> datetime | None:
    """The first instant strictly after ``at`` where ``is_open`` may flip: never later than
    ``next_change``, and much cheaper (no instant is tested). What an answer about "now"
    stays right until; ``None`` as for ``next_change``."""
    if at.utcoffset() is None:
        raise ValueError("at must be a timezone-aware datetime")
    return _first_candidate(schedule, at, lambda _c: True)


def _first_candidate(
    schedule: Schedule, at: datetime, keep: Callable[[datetime], bool]
) -> datetime | None:
    """The earliest candidate instant after ``at`` that ``keep`` keeps, in the schedule's zone."""
    after = at.astimezone(UTC)
    start = after.astimezone(schedule.timezone).date()
    best: datetime | None = None
    # Start a day early and look one day past the first hit: a transition at midnight can
    # make one local day's instants overlap its neighbour's.
    for offset in range(-1, LOOKAHEAD_DAYS + 1):
        hits = [
            c
            for c in _candidates(schedule, start + timedelta(days=offset))
            if c > after and keep(c)
        ]
        if best is not None:
            return min([best, *hits]).astimezone(schedule.timezone)
        if hits:
            best = min(hits)
    return None if best is None else best.astimezone(schedule.timezone)


def _candidates(schedule: Schedule, day: date) -> tuple[datetime, ...]:
    """UTC instants on a local day where ``is_open`` may flip."""
    return _day_candidates(schedule.timezone, day, hours_on(schedule, day))


@functools.lru_cache(maxsize=4096)
def _day_candidates(tz: ZoneInfo, day: date, hours: DayHours | None) -> tuple[datetime, ...]:
    """``_candidates`` of one day's hours. Kept: offices mostly share their hours, and every
    office list asks about the same few days again."""
    changes = _offset_changes(tz, day)
    if hours is None:
        return changes
    times = {hours.opens, hours.closes}
    for b in hours.breaks:
        times |= {b.start, b.end}
    # A wall time can mean two instants (or none) only around an offset change: on such
    # days each is taken in both folds (clocks set back just after midnight repeat the
    # day's last wall times too, hence the next day's change).
    folds = (0, 1) if changes or _offset_changes(tz, day + timedelta(days=1)) else (0,)
    found = []
    for t in times:
        local = datetime.combine(day, t, tzinfo=tz)
        for fold in folds:
            found.append((local.replace(fold=1) if fold else local).astimezone(UTC))
    return (*found, *changes)


@functools.lru_cache(maxsize=4096)
def _offset_changes(tz: ZoneInfo, day: date) -> tuple[datetime, ...]:
    """The UTC instant the zone's offset changes on a local day, if it does (at most once).

    Kept: every office list asks it of the same few days again."""
    lo = int(datetime.combine(day, time(), tzinfo=tz).timestamp())
    hi = int(datetime.combine(day + timedelta(days=1), time(), tzinfo=tz).timestamp())

    def offset(ts: int) -> timedelta | None:
        return datetime.fromtimestamp(ts, tz).utcoffset()

    before = offset(lo)
    if before == offset(hi):
        return ()
    while hi - lo > 1:  # zone transitions fall on whole seconds
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if offset(mid) == before else (lo, mid)
    return (datetime.fromtimestamp(hi, UTC),)


def hours_text(weekly: Mapping[int, DayHours]) -> str:
    """A one-line summary for visitors, e.g. ``"Mon-Fri 08:30-17:30, lunch 13:00-14:00"``.

    Consecutive weekdays with identical hours share one group; closed days are left out, so a
    week with no hours gives ``""``.
    """
    groups: list[tuple[int, int, DayHours]] = []
    for weekday in range(1, 8):
        hours = weekly.get(weekday)
        if hours is None:
            continue
        if groups and groups[-1][1] == weekday - 1 and groups[-1][2] == hours:
            groups[-1] = (groups[-1][0], weekday, hours)
        else:
            groups.append((weekday, weekday, hours))
    return "; ".join(f"{_days_text(first, last)} {_day_text(h)}" for first, last, h in groups)


def _days_text(first: int, last: int) -> str:
    if first == last:
        return WEEKDAY_ABBR[first - 1]
    return f"{WEEKDAY_ABBR[first - 1]}-{WEEKDAY_ABBR[last - 1]}"


def _day_text(hours: DayHours) -> str:
    parts = [_span(hours.opens, hours.closes)]
    parts += [_break_text(b) for b in hours.breaks]
    return ", ".join(parts)


def _span(start: time, end: time) -> str:
    return f"{start:%H:%M}-{end:%H:%M}"


def _break_text(interval: Interval) -> str:
    return f"{interval.label or 'break'} {_span(interval.start, interval.end)}"


def validate_day(hours: DayHours) -> list[str]:
    """Problems with one day's hours, as sentences an editor can read next to the form field.

    An empty list means the hours are valid. Every problem is reported, not just the first,
    so the editor can fix them in one pass.
    """
    problems: list[str] = []
    if hours.closes <= hours.opens:
        problems.append("closes must be after opens")
    valid_breaks: list[Interval] = []
    for b in hours.breaks:
        if b.end <= b.start:
            problems.append(f"{_break_text(b)} must end after it starts")
            continue
        valid_breaks.append(b)
        if b.start < hours.opens or b.end > hours.closes:
            span = _span(hours.opens, hours.closes)
            problems.append(f"{_break_text(b)} must lie within opening hours {span}")
    valid_breaks.sort(key=lambda b: (b.start, b.end))
    for a, b in combinations(valid_breaks, 2):
        if b.start < a.end:  # sorted by start, so this is the whole overlap test
            problems.append(f"{_break_text(a)} overlaps {_break_text(b)}")
    return problems
