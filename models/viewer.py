"""Who is acting: the role and the API token's name (``None`` for anonymous callers)."""

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ANONYMOUS = "anonymous"
    EDITOR = "editor"
    ADMIN = "admin"


@dataclass(frozen=True)
class Viewer:
    role: Role = Role.ANONYMOUS
    token_name: str | None = None

    @property
    def sees_unpublished(self) -> bool:
        """Editors and admins see drafts, archived and scheduled articles; the public does not."""
        return self.role in (Role.EDITOR, Role.ADMIN)


ANONYMOUS = Viewer()
