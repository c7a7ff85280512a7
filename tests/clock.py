"""A clock a test moves by hand, for code that takes a ``models.columns.Clock``."""

from datetime import datetime, timedelta

from models.columns import utcnow


class ManualClock:
    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
