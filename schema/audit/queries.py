"""``auditLog``: who did what to which entity and when (admins only)."""

from datetime import datetime
from typing import Self

import strawberry
from strawberry.scalars import JSON

from models.audit import AuditEntry
from models.services import audit
from models.services.pagination import PageArgs
from schema.context import Info
from schema.node import to_global_id
from schema.pagination import Connection, total_of
from schema.permissions import IsAdmin
from schema.sources import Root, declare_roots

_NODE_TYPES = {"article": "Article", "author": "Author", "tag": "Tag", "office": "Office"}


@strawberry.type
class AuditLogEntry:
    at: datetime
    actor: str | None = strawberry.field(description="Name of the token that acted.")
    action: str = strawberry.field(description='e.g. "article.published".')
    entity_type: str
    entity_id: strawberry.ID | None = strawberry.field(description="Global ID of the entity.")
    details: JSON

    @classmethod
    def from_model(cls, row: AuditEntry) -> Self:
        type_name = _NODE_TYPES.get(row.entity_type)
        entity_id = (
            to_global_id(type_name, row.entity_id)
            if type_name and row.entity_id is not None
            else None
        )
        return cls(
            at=row.at,
            actor=row.actor,
            action=row.action,
            entity_type=row.entity_type,
            entity_id=entity_id,
            details=JSON(row.details),
        )


declare_roots({"auditLog": Root("audit.entries", arguments=frozenset({"first", "after"}))})


@strawberry.type
class AuditQuery:
    @strawberry.field(description="Newest first (admins only).", permission_classes=[IsAdmin])
    async def audit_log(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[AuditLogEntry]:
        async with info.context.session() as session:
            page = await audit.list_entries(session, page=PageArgs(first=first, after=after))
        return Connection.of(page, AuditLogEntry.from_model, total_of(info.context, AuditEntry))
