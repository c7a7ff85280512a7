"""``apiTokens``: every token, for admins."""

import strawberry

from models.services import tokens
from schema.context import Info
from schema.permissions import IsAdmin
from schema.sources import Root, declare_roots
from schema.tokens.types import ApiTokenType

declare_roots({"apiTokens": Root("tokens.list_tokens")})


@strawberry.type
class TokenQuery:
    @strawberry.field(
        description="Every API token by name (admins only).", permission_classes=[IsAdmin]
    )
    async def api_tokens(self, info: Info) -> list[ApiTokenType]:
        async with info.context.session() as session:
            rows = await tokens.list_tokens(session)
        return [ApiTokenType.from_model(row) for row in rows]
