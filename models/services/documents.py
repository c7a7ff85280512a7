"""Persisted documents: find by hash, register automatically, add trusted, list, prune.

Automatic registration is idempotent across worker processes: the hash is the primary
key, so a second worker inserting the same document loses the race harmlessly.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.columns import is_storable
from models.document import PersistedDocument, document_hash
from models.errors import InvalidInput, Required, TooLong

# As large as the largest request body the server accepts by default.
MAX_DOCUMENT_LENGTH = 100_000


async def find_document(session: AsyncSession, hash: str) -> PersistedDocument | None:
    return await session.get(PersistedDocument, hash)


async def register_automatic(session: AsyncSession, *, body: str) -> None:
    """Remember a document a client sent with its hash (automatic persisted queries).

    The caller has checked that the hash matches and the document is valid; an existing
    row (trusted or not) is left as it is.
    """
    if not is_storable(body) or len(body) > MAX_DOCUMENT_LENGTH:
        return  # such a document can only ever be sent in full
    session.add(PersistedDocument(hash=document_hash(body), body=body, trusted=False))
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()  # another worker registered it first


async def add_trusted(session: AsyncSession, *, body: str) -> PersistedDocument:
    """Register a document anonymous callers may run in trusted-documents mode.

    The exact text is what is hashed: clients must send it byte for byte (or its hash).
    """
    if not body.strip():
        raise Required("The document is empty", field="body")
    if not is_storable(body):
        raise InvalidInput("The document contains NUL or invalid characters", field="body")
    if len(body) > MAX_DOCUMENT_LENGTH:
        raise TooLong(f"A document may be at most {MAX_DOCUMENT_LENGTH} characters", field="body")
    hash = document_hash(body)
    document = await session.get(PersistedDocument, hash)
    if document is None:
        document = PersistedDocument(hash=hash, body=body, trusted=True)
        session.add(document)
    else:
        document.trusted = True
    await session.commit()
    return document


async def list_trusted(session: AsyncSession) -> Sequence[PersistedDocument]:
    stmt = (
        select(PersistedDocument)
        .where(col(PersistedDocument.trusted))
        .order_by(col(PersistedDocument.created_at), col(PersistedDocument.hash))
    )
    return (await session.exec(stmt)).all()


async def prune_automatic(session: AsyncSession, *, keep: int) -> int:
    """Forget all but the newest ``keep`` automatically registered documents.

    Clients may register any number of valid documents; this bounds the table. A
    forgotten one costs its client one round trip: the hash is not found, so the client
    sends the document again. Trusted documents are never pruned.
    """
    newest = (
        select(col(PersistedDocument.hash))
        .where(~col(PersistedDocument.trusted))
        .order_by(col(PersistedDocument.created_at).desc(), col(PersistedDocument.hash))
        .limit(keep)
    )
    stmt = sa.delete(PersistedDocument).where(
        ~col(PersistedDocument.trusted), col(PersistedDocument.hash).not_in(newest)
    )
    result = await session.exec(stmt)
    await session.commit()
    return int(result.rowcount)
