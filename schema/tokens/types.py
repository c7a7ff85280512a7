"""The ``ApiToken`` type: a token's name and role, never its secret."""

from datetime import datetime
from typing import Self

import strawberry

from models.token import ApiToken


@strawberry.type(name="ApiToken")
class ApiTokenType:
    name: str
    role: str = strawberry.field(description="editor or admin")
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def from_model(cls, token: ApiToken) -> Self:
        return cls(
            name=token.name,
            role=token.role,
            created_at=token.created_at,
            revoked_at=token.revoked_at,
        )
