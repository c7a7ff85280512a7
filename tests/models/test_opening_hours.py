"""Opening hours: open/closed answers, the next change, the summary text and editor validation."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from models.opening_hours import (
    LOOKAHEAD_DAYS,
    DayHours,
    Interval,
    Schedule,
    hours_on,
    hours_text,
    is_open,
    next_boundary,
    next_change,
    validate_day,
)

MINSK = ZoneInfo("Europe/Minsk")
BERLIN = ZoneInfo("Europe/Berlin")

LUNCH = Interval(time(13, 0), time(14, 0), "lunch")
WORKDAY = DayHours(time(8, 30), time(17, 30), (LUNCH,))
SATURDAY = DayHours(time(9, 0), time(13, 0))
SEED_WEEK = {weekday: WORKDAY for weekday in range(1, 6)}
SEED = Schedule(MINSK, SEED_WEEK)

# January 2025: Mon 6, Tue 7 (Orthodox Christmas, a public holiday), Wed 8 ... Wed 15, Fri 17,
# Sun 19, Mon 20.
CHRISTMAS = date(2025, 1, 7)
SHORT_DAY = DayHours(time(8, 30), time(16, 30), (LUNCH,))
WITH_HOLIDAYS = Schedule(MINSK, SEED_WEEK, {CHRISTMAS: None, date(2025, 1, 6): SHORT_DAY})


def minsk(day: int, hour: int, minute: int = 0, month: int = 1) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=MINSK)


# is_open


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (minsk(15, 10), True),  # Wednesday morning
        (minsk(15, 13, 30), False),  # lunch
        (minsk(15, 12, 59), True),  # just before lunch
        (minsk(15, 13), False),  # lunch starts: [start, end)
        (minsk(15, 14), True),  # lunch ends
        (minsk(15, 8, 29), False),
        (minsk(15, 8, 30), True),
        (minsk(15, 17, 29), True),
        (minsk(15, 17, 30), False),  # closes: [opens, closes)
        (minsk(19, 10), False),  # Sunday
        (minsk(18, 10), False),  # Saturday
    ],
)
def test_is_open_seed_schedule(at: datetime, expected: bool) -> None:
    assert is_open(SEED, at) is expected


def test_is_open_converts_other_timezones() -> None:
    # Minsk is UTC+3; each case gives the opposite answer if the UTC wall time were read as local.
    assert is_open(SEED, datetime(2025, 1, 15, 7, 0, tzinfo=UTC)) is True  # 10:00 Minsk
    assert is_open(SEED, datetime(2025, 1, 15, 10, 30, tzinfo=UTC)) is False  # 13:30, lunch
    assert is_open(SEED, datetime(2025, 1, 15, 6, 0, tzinfo=UTC)) is True  # 09:00
    assert is_open(SEED, datetime(2025, 1, 15, 14, 45, tzinfo=UTC)) is False  # 17:45


def test_is_open_uses_the_local_date_not_the_utc_date() -> None:
    # 22:00Z on Sunday is 01:00 Monday in Minsk; 22:00Z on Monday is already Tuesday.
    monday = DayHours(time(0, 0), time(2, 0))
    schedule = Schedule(MINSK, {1: monday})
    assert is_open(schedule, datetime(2025, 1, 19, 22, 0, tzinfo=UTC)) is True
    assert is_open(schedule, datetime(2025, 1, 20, 22, 0, tzinfo=UTC)) is False


def test_is_open_rejects_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        is_open(SEED, datetime(2025, 1, 15, 10, 0))


def test_holiday_exception_closes_the_whole_day() -> None:
    assert hours_on(WITH_HOLIDAYS, CHRISTMAS) is None
    assert is_open(WITH_HOLIDAYS, minsk(7, 10)) is False
    assert is_open(SEED, minsk(7, 10)) is True  # the same Tuesday without the exception


def test_shortened_day_exception_replaces_weekly_hours() -> None:
    assert hours_on(WITH_HOLIDAYS, date(2025, 1, 6)) == SHORT_DAY
    assert is_open(WITH_HOLIDAYS, minsk(6, 16, 29)) is True
    assert is_open(WITH_HOLIDAYS, minsk(6, 16, 30)) is False
    assert is_open(WITH_HOLIDAYS, minsk(6, 13, 30)) is False  # lunch still applies
    assert is_open(WITH_HOLIDAYS, minsk(13, 16, 30)) is True  # a week later: normal Monday


def test_exception_can_open_a_day_the_week_leaves_closed() -> None:
    schedule = Schedule(MINSK, SEED_WEEK, {date(2025, 1, 18): SATURDAY})
    assert hours_on(schedule, date(2025, 1, 18)) == SATURDAY
    assert is_open(schedule, minsk(18, 10)) is True
    assert is_open(schedule, minsk(25, 10)) is False


# next_change


@pytest.mark.parametrize(
    ("schedule", "at", "expected"),
    [
        (SEED, minsk(15, 10), minsk(15, 13)),  # open -> lunch
        (SEED, minsk(15, 13, 30), minsk(15, 14)),  # lunch -> open
        (SEED, minsk(15, 13), minsk(15, 14)),  # strictly after `at`
        (SEED, minsk(15, 14), minsk(15, 17, 30)),
        (SEED, minsk(15, 7), minsk(15, 8, 30)),
        (SEED, minsk(15, 17, 30), minsk(16, 8, 30)),
        (SEED, minsk(17, 18), minsk(20, 8, 30)),  # Friday evening -> Monday morning
        (SEED, minsk(19, 23, 59), minsk(20, 8, 30)),
        (WITH_HOLIDAYS, minsk(6, 14), minsk(6, 16, 30)),  # shortened day
        (WITH_HOLIDAYS, minsk(6, 18), minsk(8, 8, 30)),  # over the holiday
        (WITH_HOLIDAYS, minsk(7, 10), minsk(8, 8, 30)),  # during the holiday
    ],
)
def test_next_change(schedule: Schedule, at: datetime, expected: datetime) -> None:
    result = next_change(schedule, at)
    assert result == expected
    assert result is not None and result.tzinfo is MINSK


def test_next_change_returns_schedule_local_time_for_utc_input() -> None:
    result = next_change(SEED, datetime(2025, 1, 15, 7, 0, tzinfo=UTC))  # 10:00 Minsk
    assert result is not None
    assert (result.tzinfo, result.replace(tzinfo=None)) == (MINSK, datetime(2025, 1, 15, 13, 0))


def test_next_change_merges_touching_breaks() -> None:
    # Two breaks back to back are one closed stretch: no flip at 13:30.
    day = DayHours(
        time(9, 0),
        time(18, 0),
        (Interval(time(13, 0), time(13, 30)), Interval(time(13, 30), time(14, 0))),
    )
    schedule = Schedule(MINSK, {3: day})
    assert next_change(schedule, minsk(15, 13, 10)) == minsk(15, 14)


def test_next_change_rejects_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_change(SEED, datetime(2025, 1, 15, 10, 0))


def test_next_change_gives_up_after_the_lookahead() -> None:
    start = minsk(15, 10)
    last_day = start.date() + timedelta(days=LOOKAHEAD_DAYS)
    reachable = Schedule(MINSK, {}, {last_day: SATURDAY})
    too_far = Schedule(MINSK, {}, {last_day + timedelta(days=1): SATURDAY})

    assert next_change(reachable, start) == datetime.combine(last_day, time(9), tzinfo=MINSK)
    assert next_change(too_far, start) is None
    assert next_change(Schedule(MINSK, {}), start) is None


def test_next_change_when_opening_falls_in_a_dst_gap() -> None:
    # Berlin, Sunday 2025-03-30: clocks jump 02:00 CET -> 03:00 CEST at 01:00Z, so an office
    # "opening at 02:30" is open from the jump on.
    schedule = Schedule(BERLIN, {7: DayHours(time(2, 30), time(10, 0))})
    saturday_noon = datetime(2025, 3, 29, 12, 0, tzinfo=BERLIN)

    opening = next_change(schedule, saturday_noon)

    assert opening is not None
    assert opening.astimezone(UTC) == datetime(2025, 3, 30, 1, 0, tzinfo=UTC)
    assert is_open(schedule, opening) is True
    # Subtract in UTC: aware arithmetic in Berlin works on wall time and would land in the gap.
    assert is_open(schedule, opening.astimezone(UTC) - timedelta(seconds=1)) is False
    closing = next_change(schedule, opening)
    assert closing is not None
    assert closing.astimezone(UTC) == datetime(2025, 3, 30, 8, 0, tzinfo=UTC)  # 10:00 CEST


def test_next_change_across_a_dst_overlap() -> None:
    # Berlin, Sunday 2025-10-26: clocks fall back 03:00 CEST -> 02:00 CET at 01:00Z, so
    # 00:00-02:30 local happens as 22:00Z-00:30Z, then again as 01:00Z-01:30Z.
    schedule = Schedule(BERLIN, {7: DayHours(time(0, 0), time(2, 30))})
    instants = [datetime(2025, 10, 25, 12, 0, tzinfo=UTC)]
    for _ in range(4):
        found = next_change(schedule, instants[-1])
        assert found is not None and found.tzinfo is BERLIN
        instants.append(found)

    assert [i.astimezone(UTC) for i in instants[1:]] == [
        datetime(2025, 10, 25, 22, 0, tzinfo=UTC),  # opens 00:00 CEST
        datetime(2025, 10, 26, 0, 30, tzinfo=UTC),  # closes 02:30 CEST
        datetime(2025, 10, 26, 1, 0, tzinfo=UTC),  # reopens: the wall clock is back at 02:00
        datetime(2025, 10, 26, 1, 30, tzinfo=UTC),  # closes 02:30 CET
    ]


# next_boundary: when an answer about "now" must be asked again


TOUCHING_BREAKS = Schedule(
    MINSK,
    {
        3: DayHours(
            time(9, 0),
            time(18, 0),
            (Interval(time(13, 0), time(13, 30)), Interval(time(13, 30), time(14, 0))),
        )
    },
)
BERLIN_NIGHTS = Schedule(BERLIN, {7: DayHours(time(0, 0), time(2, 30)), 6: SATURDAY})


@pytest.mark.parametrize(
    "schedule", [SEED, WITH_HOLIDAYS, TOUCHING_BREAKS, BERLIN_NIGHTS, Schedule(MINSK, {})]
)
def test_next_boundary_is_never_after_the_next_change(schedule: Schedule) -> None:
    # Every 23 minutes over three weeks, DST days in Berlin included.
    start = datetime(2025, 10, 13, 0, 0, tzinfo=UTC) if schedule is BERLIN_NIGHTS else minsk(1, 0)
    for step in range(0, 21 * 24 * 60, 23):
        at = start + timedelta(minutes=step)
        boundary, change = next_boundary(schedule, at), next_change(schedule, at)
        assert (boundary is None) == (change is None)
        assert boundary is None or change is None or at < boundary <= change, at
        if boundary is not None and change is not None and boundary < change:
            # Nothing flips in between: the answer about ``at`` still holds at the boundary.
            assert is_open(schedule, boundary) == is_open(schedule, at)


def test_next_boundary_is_the_next_change_where_every_boundary_flips() -> None:
    assert next_boundary(SEED, minsk(15, 10)) == minsk(15, 13)
    assert next_boundary(SEED, minsk(17, 18)) == minsk(20, 8, 30)
    assert next_boundary(WITH_HOLIDAYS, minsk(6, 18)) == minsk(8, 8, 30)


def test_next_boundary_stops_where_touching_breaks_meet() -> None:
    assert next_boundary(TOUCHING_BREAKS, minsk(15, 13, 10)) == minsk(15, 13, 30)
    assert next_change(TOUCHING_BREAKS, minsk(15, 13, 10)) == minsk(15, 14)


def test_next_boundary_rejects_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_boundary(SEED, datetime(2025, 1, 15, 10, 0))


# hours_text


@pytest.mark.parametrize(
    ("weekly", "expected"),
    [
        (SEED_WEEK, "Mon-Fri 08:30-17:30, lunch 13:00-14:00"),
        ({6: SATURDAY}, "Sat 09:00-13:00"),
        ({**SEED_WEEK, 6: SATURDAY}, "Mon-Fri 08:30-17:30, lunch 13:00-14:00; Sat 09:00-13:00"),
        (
            {1: DayHours(time(9), time(18), (Interval(time(13), time(14)),))},
            "Mon 09:00-18:00, break 13:00-14:00",
        ),
        # Tuesday closed splits the same hours into two groups.
        ({1: SATURDAY, 3: SATURDAY, 4: SATURDAY}, "Mon 09:00-13:00; Wed-Thu 09:00-13:00"),
        # A different break label is different hours.
        (
            {1: WORKDAY, 2: DayHours(time(8, 30), time(17, 30), (Interval(time(13), time(14)),))},
            "Mon 08:30-17:30, lunch 13:00-14:00; Tue 08:30-17:30, break 13:00-14:00",
        ),
        (
            {
                1: DayHours(
                    time(8),
                    time(20),
                    (LUNCH, Interval(time(16), time(16, 15), "technical break")),
                )
            },
            "Mon 08:00-20:00, lunch 13:00-14:00, technical break 16:00-16:15",
        ),
        ({}, ""),
    ],
)
def test_hours_text(weekly: dict[int, DayHours], expected: str) -> None:
    assert hours_text(weekly) == expected


# validate_day


def test_validate_day_accepts_the_seed_workday() -> None:
    assert validate_day(WORKDAY) == []
    assert validate_day(SATURDAY) == []


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        (DayHours(time(17, 30), time(8, 30)), ["closes must be after opens"]),
        (DayHours(time(9), time(9)), ["closes must be after opens"]),
        (
            DayHours(time(9), time(18), (Interval(time(14), time(13), "lunch"),)),
            ["lunch 14:00-13:00 must end after it starts"],
        ),
        (
            DayHours(time(9), time(18), (Interval(time(8), time(9, 30)),)),
            ["break 08:00-09:30 must lie within opening hours 09:00-18:00"],
        ),
        (
            DayHours(time(9), time(18), (Interval(time(17, 30), time(18, 30), "tea"),)),
            ["tea 17:30-18:30 must lie within opening hours 09:00-18:00"],
        ),
        (
            DayHours(
                time(9),
                time(18),
                (Interval(time(13, 30), time(14, 30)), LUNCH),
            ),
            ["lunch 13:00-14:00 overlaps break 13:30-14:30"],
        ),
        (
            DayHours(
                time(9),
                time(18),
                (
                    Interval(time(12), time(16), "long"),
                    Interval(time(13), time(13, 30), "a"),
                    Interval(time(15), time(15, 30), "b"),
                ),
            ),
            ["long 12:00-16:00 overlaps a 13:00-13:30", "long 12:00-16:00 overlaps b 15:00-15:30"],
        ),
        (
            DayHours(time(18), time(9), (Interval(time(14), time(13)),)),
            ["closes must be after opens", "break 14:00-13:00 must end after it starts"],
        ),
    ],
)
def test_validate_day_reports_problems(hours: DayHours, expected: list[str]) -> None:
    assert validate_day(hours) == expected


def test_validate_day_allows_touching_breaks_and_breaks_at_the_edges() -> None:
    hours = DayHours(
        time(9),
        time(18),
        (
            Interval(time(9), time(9, 15)),
            Interval(time(13), time(14)),
            Interval(time(14), time(18)),
        ),
    )
    assert validate_day(hours) == []
