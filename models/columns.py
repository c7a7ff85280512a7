"""Column types shared by the tables.

SQLite has no timezone-aware timestamp type, so every timestamp goes through
``UTCDateTime``: stored as UTC, always read back as an aware ``datetime``.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from models.errors import InvalidInput


def utcnow() -> datetime:
    """The current instant, timezone-aware, with microseconds dropped.

    Microseconds are dropped so that values round-trip identically through
    cursors, JSON and both databases.
    """
    return datetime.now(UTC).replace(microsecond=0)


Clock = Callable[[], datetime]
"""What tells the time: ``utcnow``, or a test's clock it moves by hand."""


# Instants a client may ask about: wide enough for any real date, far enough from
# datetime's year 1 and year 9999 that timezone arithmetic cannot overflow.
EARLIEST = datetime(1000, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def require_aware(value: datetime, field: str) -> datetime:
    """Reject a datetime without a UTC offset (it names no instant) or out of range."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(
            f"{field} must include a UTC offset, e.g. 2024-01-10T10:00:00+03:00", field=field
        )
    if not EARLIEST.replace(tzinfo=None) < value.replace(tzinfo=None) < LATEST.replace(tzinfo=None):
        raise InvalidInput(f"{field} must be between the years 1000 and 9000", field=field)
    return value


def is_storable(text: str) -> bool:
    """Whether ``text`` can be stored or compared in both databases.

    PostgreSQL text cannot hold NUL, and neither driver can encode a lone surrogate;
    such a string can match no stored value.
    """
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(UTC)
        # SQLite stores text; keep it naive UTC so comparisons stay lexical and correct.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


NOW: sa.BindParameter[datetime] = sa.bindparam(
    "vestnik_now", None, type_=UTCDateTime, required=False
)
"""Stands for the request's instant in a statement built once and run again: pass it as a
parameter (``models.rawdb``'s prepared statements fill it in per run)."""
