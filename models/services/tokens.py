"""API tokens: issue, list, revoke, and resolve a presented secret to a Viewer."""

import re
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.columns import is_storable, utcnow
from models.errors import AccessDenied, Duplicate, InvalidInput, NotFound
from models.services import audit
from models.token import TOKEN_PREFIX, ApiToken, hash_secret, new_secret
from models.viewer import Role, Viewer

_SECRET_SHAPE = re.compile(re.escape(TOKEN_PREFIX) + r"[A-Za-z0-9_-]{43}")


async def create_token(
    session: AsyncSession, *, name: str, role: Role, viewer: Viewer | None = None
) -> tuple[ApiToken, str]:
    """Issue a token; the secret is returned once and only its hash is kept.

    ``viewer`` is the admin acting over the API (audited); ``None`` from the CLI.
    """
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("A token name must be 1 to 100 characters", field="name")
    if not is_storable(name):
        raise InvalidInput("This text contains characters that cannot be stored", field="name")
    if role is Role.ANONYMOUS:
        raise InvalidInput("A token's role must be editor or admin", field="role")
    secret = new_secret()
    token = ApiToken(name=name, role=role.value, secret_hash=hash_secret(secret))
    session.add(token)
    try:
        await session.flush()
        if viewer is not None:
            audit.record(session, viewer, "token.created", "token", token.id, name=name)
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Duplicate(f"A token named '{name}' already exists", field="name") from None
    return token, secret


async def list_tokens(session: AsyncSession) -> Sequence[ApiToken]:
    return (await session.exec(select(ApiToken).order_by(col(ApiToken.name)))).all()


async def revoke_token(
    session: AsyncSession, *, name: str, viewer: Viewer | None = None
) -> ApiToken:
    stmt = select(ApiToken).where(col(ApiToken.name) == name)
    token = (await session.exec(stmt)).first() if is_storable(name) else None
    if token is None:
        raise NotFound(f"No token named '{name}'", field="name")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        if viewer is not None:
            audit.record(session, viewer, "token.revoked", "token", token.id, name=name)
        await session.commit()
    return token


async def viewer_for_secret(session: AsyncSession, secret: str) -> Viewer:
    """The Viewer a presented secret stands for; a wrong or revoked one is refused."""
    invalid = AccessDenied("invalid token", "UNAUTHENTICATED")
    if not _SECRET_SHAPE.fullmatch(secret):
        raise invalid
    stmt = select(ApiToken).where(col(ApiToken.secret_hash) == hash_secret(secret))
    token = (await session.exec(stmt)).first()
    if token is None or token.revoked_at is not None:
        raise invalid
    return Viewer(role=Role(token.role), token_name=token.name)
