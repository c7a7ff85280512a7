"""One committed content change, as told to caches, webhooks and subscribers.

A value of its own, apart from ``models.services.events`` (which records, stamps and
carries these), so the webhook outbox that ``events`` calls can name it without importing
``events`` back.
"""

import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import orjson

from models.columns import utcnow

# Tells this process's notifications from other processes' ones.
PROCESS_ID = uuid.uuid4().hex


@dataclass(frozen=True)
class ContentEvent:
    """One committed change: ``action`` is ``entity.verb``, e.g. ``article.published``."""

    action: str
    entity: str
    id: int | None
    details: dict[str, Any] = field(default_factory=dict)
    at: datetime = field(default_factory=utcnow)
    # Filled in at commit: the content version the change produced, and who sent it.
    version: int = 0
    origin: str = PROCESS_ID
    database: str = ""

    def to_json(self) -> bytes:
        return orjson.dumps(asdict(self), default=str)

    @classmethod
    def from_json(cls, raw: str | bytes) -> "ContentEvent":
        data = orjson.loads(raw)
        data["at"] = datetime.fromisoformat(data["at"])
        return cls(**data)
