"""The audit log: who (token name) did what to which entity, and when."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.columns import UTCDateTime, utcnow


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entry"
    __table_args__ = (sa.Index("ix_audit_entry_at", "at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor: str | None = Field(default=None, max_length=100)
    action: str = Field(max_length=50)
    entity_type: str = Field(max_length=20)
    entity_id: int | None = None
    details: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
