"""Issuing and revoking API tokens over GraphQL (admins only), like `vestnik token`."""

from enum import Enum

import strawberry

from models.services import tokens
from models.viewer import Role
from schema.context import Info
from schema.errors import UserError
from schema.payloads import perform
from schema.permissions import IsAdmin
from schema.tokens.types import ApiTokenType


@strawberry.enum(description="The role a token grants.")
class TokenRole(Enum):
    EDITOR = "editor"
    ADMIN = "admin"


@strawberry.type
class CreateApiTokenPayload:
    token: ApiTokenType | None
    secret: str | None = strawberry.field(
        description="The bearer token. Shown only in this response; only its hash is stored."
    )
    errors: list[UserError]


@strawberry.type
class RevokeApiTokenPayload:
    token: ApiTokenType | None
    errors: list[UserError]


@strawberry.type
class TokenMutation:
    @strawberry.mutation(permission_classes=[IsAdmin], description="Issue a token.")
    async def create_api_token(
        self, info: Info, name: str, role: TokenRole
    ) -> CreateApiTokenPayload:
        viewer = info.context.viewer
        result, errors = await perform(
            info,
            lambda s: tokens.create_token(s, name=name, role=Role(role.value), viewer=viewer),
            root=None,
        )
        if result is None:
            return CreateApiTokenPayload(token=None, secret=None, errors=errors)
        token, secret = result
        return CreateApiTokenPayload(token=ApiTokenType.from_model(token), secret=secret, errors=[])

    @strawberry.mutation(
        permission_classes=[IsAdmin], description="Revoke a token: it is refused from now on."
    )
    async def revoke_api_token(self, info: Info, name: str) -> RevokeApiTokenPayload:
        viewer = info.context.viewer
        result, errors = await perform(
            info, lambda s: tokens.revoke_token(s, name=name, viewer=viewer), root=None
        )
        token = ApiTokenType.from_model(result) if result is not None else None
        return RevokeApiTokenPayload(token=token, errors=errors)
