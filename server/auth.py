"""Who is calling: an ``Authorization: Bearer <token>`` header, or nobody.

A header that is present but wrong, revoked or malformed is refused, never
treated as anonymous: a misconfigured press-office client must notice.
"""

from starlette.requests import HTTPConnection

from models.db import SessionMaker
from models.errors import AccessDenied
from models.services.tokens import viewer_for_secret
from models.viewer import ANONYMOUS, Viewer


async def authenticate(connection: HTTPConnection, sessionmaker: SessionMaker) -> Viewer:
    header = connection.headers.get("authorization")
    if header is None:
        return ANONYMOUS
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise AccessDenied("invalid token", "UNAUTHENTICATED")
    async with sessionmaker() as session:
        return await viewer_for_secret(session, secret.strip())
