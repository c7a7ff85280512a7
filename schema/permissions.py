"""Who may do what: the one place the API checks the viewer's role.

Mutations and private fields name a permission class; resolvers never look at
roles themselves.
"""

from typing import Any

from strawberry.permission import BasePermission

from models.errors import AccessDenied
from models.viewer import Role, Viewer
from schema.context import Info

_RANK = {Role.ANONYMOUS: 0, Role.EDITOR: 1, Role.ADMIN: 2}


def _require(viewer: Viewer, role: Role) -> bool:
    if _RANK[viewer.role] >= _RANK[role]:
        return True
    if viewer.role is Role.ANONYMOUS:
        raise AccessDenied(
            "Authentication required: send 'Authorization: Bearer <token>'", "UNAUTHENTICATED"
        )
    raise AccessDenied(f"This needs the {role.value} role", "FORBIDDEN")


class IsEditor(BasePermission):
    """Editors and admins: articles, authors, tags, drafts, revisions."""

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return _require(info.context.viewer, Role.EDITOR)


class IsAdmin(BasePermission):
    """Admins only: offices, tokens, the audit log."""

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return _require(info.context.viewer, Role.ADMIN)


def can_read_private(info: Info) -> bool:
    """Private fields (an author's e-mail) are for editors and admins only."""
    return info.context.reads_private
