"""The content version: one row whose counter every content change moves forward.

Caches in any process compare the version they were filled at with this one, so a
response cached before a change is never served after it commits.
"""

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.columns import UTCDateTime, utcnow

STATE_ID = 1


class ContentState(SQLModel, table=True):
    __tablename__ = "content_state"

    id: int = Field(default=STATE_ID, primary_key=True)
    version: int = Field(default=0)
    changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
