"""Column types shared by the tables.

SQLite has no timezone-aware timestamp type, so every timestamp goes through
``UTCDateTime``: stored as UTC, always read back as an aware ``datetime``.
"""

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


def require_aware(value: datetime, field: str) -> datetime:
    """Reject a datetime without a UTC offset: it names no instant."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(
            f"{field} must include a UTC offset, e.g. 2024-01-10T10:00:00+03:00", field=field
        )
    return value


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
