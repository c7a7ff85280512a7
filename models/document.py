"""Persisted GraphQL documents, keyed by the SHA-256 of their exact text.

Two kinds share the table: documents a client registered itself through automatic
persisted queries (``trusted`` false), and documents an operator registered with
``vestnik documents add`` (``trusted`` true), the only ones anonymous callers may run
when the server accepts trusted documents only. The table is what lets several worker
processes agree on which hashes are known.
"""

import hashlib
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.columns import UTCDateTime, utcnow


def document_hash(body: str) -> str:
    """The hex SHA-256 of the document's UTF-8 text: what clients send as ``sha256Hash``."""
    return hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()


class PersistedDocument(SQLModel, table=True):
    __tablename__ = "persisted_document"

    hash: str = Field(primary_key=True, max_length=64)
    body: str = Field(sa_type=sa.Text)
    trusted: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
