"""The audit log: every content mutation records who did what, in the same transaction."""

from collections.abc import Mapping
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.audit import AuditEntry
from models.services import events
from models.services.pagination import (
    Ordering,
    OrderKey,
    Page,
    PageArgs,
    check_page_args,
    make_page,
    paginate,
)
from models.viewer import Viewer

NEWEST_FIRST = Ordering(
    "audit",
    (
        OrderKey("at", col(AuditEntry.at), descending=True, kind="datetime"),
        OrderKey("id", col(AuditEntry.id), descending=True),
    ),
)


def record(
    session: AsyncSession,
    viewer: Viewer,
    action: str,
    entity_type: str,
    entity_id: int | None,
    announce: Mapping[str, Any] | None = None,
    **details: Any,
) -> None:
    """Add an entry to the caller's transaction; it commits (or rolls back) with the change.

    The same change is announced as a content event (``models.services.events``), with
    ``announce`` added to its details: facts for listeners that the log does not keep.
    """
    events.record(session, action, entity_type, entity_id, **details, **(announce or {}))
    session.add(
        AuditEntry(
            actor=viewer.token_name,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            details=details,
        )
    )


async def list_entries(session: AsyncSession, *, page: PageArgs) -> Page[AuditEntry]:
    window = check_page_args(page, NEWEST_FIRST)
    rows = (await session.exec(paginate(select(AuditEntry), NEWEST_FIRST, window))).all()
    return make_page(rows, NEWEST_FIRST, window)
