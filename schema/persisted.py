"""Persisted documents: automatic persisted queries and trusted-documents mode.

Automatic persisted queries (Apollo's protocol, over GET and POST): a client sends
``extensions.persistedQuery = {version: 1, sha256Hash}`` without the query. A known hash
runs its document; an unknown one is answered ``PERSISTED_QUERY_NOT_FOUND``, and the
client sends the query again with the hash, which must be the query's SHA-256. Once
that document passes validation it is remembered in the database, so every worker
process knows it; an in-process LRU cache spares the database the repeat lookups.

Trusted-documents mode: anonymous callers may run only documents an operator
registered with ``vestnik documents add`` (by hash or by sending the exact text);
callers with a valid token may still send any document.

All of this happens in ``on_operation``, before parsing, where Strawberry exposes the
request's query, extensions and context; a refusal is a GraphQL error with a code.
"""

import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass, fields
from typing import Self

import strawberry
from graphql import GraphQLError, parse, specified_rules, validate
from graphql import build_schema as schema_from_sdl
from strawberry.extensions import SchemaExtension

from models.db import SessionMaker
from models.document import document_hash
from models.services import documents
from models.viewer import Role
from schema.context import Context
from schema.limits import NoIntrospectionRule, QueryLimits, check_document, refusal

logger = logging.getLogger("vestnik.persisted")

PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
PERSISTED_QUERY_NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
PERSISTED_QUERY_INVALID = "PERSISTED_QUERY_INVALID"
PERSISTED_QUERY_HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
DOCUMENT_NOT_TRUSTED = "DOCUMENT_NOT_TRUSTED"
DOCUMENT_REFUSALS = frozenset(
    {
        PERSISTED_QUERY_NOT_FOUND,
        PERSISTED_QUERY_NOT_SUPPORTED,
        PERSISTED_QUERY_INVALID,
        PERSISTED_QUERY_HASH_MISMATCH,
        DOCUMENT_NOT_TRUSTED,
    }
)

CACHE_SIZE = 1000
# Automatically registered documents kept in the database; checked every PRUNE_EVERY
# registrations a process makes (see documents.prune_automatic).
KEEP_AUTOMATIC = 10_000
PRUNE_EVERY = 100


@dataclass(frozen=True)
class DocumentPolicy:
    """Which persisted documents the server accepts; the server fills it from Settings."""

    persisted_queries: bool = True
    trusted_documents_only: bool = False

    @classmethod
    def from_settings(cls, settings: object) -> Self:
        """Copy the policy from any object with attributes of these names."""
        return cls(**{field.name: getattr(settings, field.name) for field in fields(cls)})


@dataclass(frozen=True)
class KnownDocument:
    body: str
    trusted: bool


class DocumentStore:
    """The database's persisted documents, behind a small per-process LRU cache.

    A cached untrusted document is looked up again when trust is needed: an operator may
    have trusted it since (``vestnik documents add`` in another process). Unknown hashes
    are not cached, so a document registered by another worker is found at once.
    """

    def __init__(self, cache_size: int = CACHE_SIZE) -> None:
        self.cache_size = cache_size
        self._cache: OrderedDict[str, KnownDocument] = OrderedDict()
        self._registrations = 0

    async def find(
        self, sessionmaker: SessionMaker, hash: str, *, need_trusted: bool = False
    ) -> KnownDocument | None:
        known = self._cache.get(hash)
        if known is not None and (known.trusted or not need_trusted):
            self._cache.move_to_end(hash)
            return known
        async with sessionmaker() as session:
            row = await documents.find_document(session, hash)
        if row is None:
            return None
        known = KnownDocument(body=row.body, trusted=row.trusted)
        self._remember(hash, known)
        return known

    async def register(self, sessionmaker: SessionMaker, body: str) -> None:
        hash = document_hash(body)
        if hash in self._cache:
            return
        async with sessionmaker() as session:
            await documents.register_automatic(session, body=body)
            self._registrations += 1
            if self._registrations % PRUNE_EVERY == 0:
                await documents.prune_automatic(session, keep=KEEP_AUTOMATIC)
        self._remember(hash, KnownDocument(body=body, trusted=False))

    def _remember(self, hash: str, known: KnownDocument) -> None:
        self._cache[hash] = known
        self._cache.move_to_end(hash)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)


def _requested_hash(persisted: object) -> str:
    """The sha256Hash of a well-formed ``persistedQuery`` extension (version 1)."""
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise refusal(
            "Unsupported persisted query: extensions.persistedQuery must be "
            '{"version": 1, "sha256Hash": "<64 hex digits>"}',
            PERSISTED_QUERY_INVALID,
        )
    hash = persisted.get("sha256Hash")
    if not isinstance(hash, str) or len(hash) != 64 or not _is_hex(hash):
        raise refusal(
            "extensions.persistedQuery.sha256Hash must be 64 hexadecimal digits",
            PERSISTED_QUERY_INVALID,
        )
    return hash.lower()


def _is_hex(text: str) -> bool:
    return all(character in "0123456789abcdefABCDEF" for character in text)


NOT_FOUND = "Persisted query not found: send it again with the query"
NOT_TRUSTED = (
    "This server runs only registered documents for callers without a token; "
    "this one is not registered"
)


class PersistedDocuments(SchemaExtension):
    """Resolves and checks persisted documents before Strawberry parses the query.

    A refusal (or a database failure) becomes the operation's only error the way
    Strawberry's own caching extensions short-cut it: a stand-in document skips parsing
    and the preset errors skip validation, so the result still passes through the error
    policy, which masks and logs a failure like any other.
    """

    def __init__(self, store: DocumentStore, policy: DocumentPolicy) -> None:
        self.store = store
        self.policy = policy
        self.to_register: str | None = None

    async def on_operation(self) -> AsyncIterator[None]:
        execution = self.execution_context
        persisted = (execution.operation_extensions or {}).get("persistedQuery")
        if persisted is not None or self.policy.trusted_documents_only:
            try:
                await self._resolve(persisted)
            except GraphQLError as error:
                self._refuse(error)
            except Exception as error:  # the database failed; the error policy masks it
                self._refuse(GraphQLError(str(error), original_error=error))
        yield

    async def on_validate(self) -> AsyncIterator[None]:
        yield
        execution = self.execution_context
        if self.to_register is None or execution.pre_execution_errors:
            return  # only a document that passed validation (and the limits) is kept
        assert isinstance(execution.context, Context)
        try:
            await self.store.register(execution.context.sessionmaker, self.to_register)
        except Exception:
            # The query itself is fine and runs; the client will just send it again.
            logger.warning("could not remember a persisted document", exc_info=True)

    async def _resolve(self, persisted: object) -> None:
        """Set the query a persisted request stands for; raise a refusal if there is none."""
        execution = self.execution_context
        context = execution.context
        assert isinstance(context, Context)
        restricted = self.policy.trusted_documents_only and context.viewer.role is Role.ANONYMOUS
        query = execution.query
        if persisted is None:
            if restricted and query is not None:
                await self._require_trusted(context.sessionmaker, document_hash(query))
            return
        if not (self.policy.persisted_queries or self.policy.trusted_documents_only):
            raise refusal(
                "Persisted queries are not supported here: send the query",
                PERSISTED_QUERY_NOT_SUPPORTED,
            )
        hash = _requested_hash(persisted)
        if query is None:
            known = await self.store.find(context.sessionmaker, hash, need_trusted=restricted)
            if known is None or not (known.trusted or self.policy.persisted_queries):
                raise refusal(NOT_FOUND, PERSISTED_QUERY_NOT_FOUND)
            if restricted and not known.trusted:
                raise refusal(NOT_TRUSTED, DOCUMENT_NOT_TRUSTED)
            execution.query = known.body
        elif document_hash(query) != hash:
            raise refusal(
                "extensions.persistedQuery.sha256Hash is not the SHA-256 of the query",
                PERSISTED_QUERY_HASH_MISMATCH,
            )
        elif restricted:
            await self._require_trusted(context.sessionmaker, hash)
        elif self.policy.persisted_queries:
            self.to_register = query

    async def _require_trusted(self, sessionmaker: SessionMaker, hash: str) -> None:
        known = await self.store.find(sessionmaker, hash, need_trusted=True)
        if known is None or not known.trusted:
            raise refusal(NOT_TRUSTED, DOCUMENT_NOT_TRUSTED)

    def _refuse(self, error: GraphQLError) -> None:
        execution = self.execution_context
        execution.graphql_document = _STAND_IN
        execution.pre_execution_errors = [error]


# Parsed once at import (no IO): what a refused operation "parses" to; it never runs.
_STAND_IN = parse("{ __typename }", no_location=True)


def document_problems(
    schema: strawberry.Schema, body: str, limits: QueryLimits | None = None
) -> list[str]:
    """Why a document could not run against ``schema`` under ``limits`` (empty: it can).

    For ``vestnik documents add``: a document is checked when it is registered, not only
    when a client first sends its hash. Variables are unknown here, so their defaults
    (or 20 per page) are used for the cost.
    """
    limits = limits or QueryLimits()
    try:
        document = parse(body, max_tokens=limits.max_tokens)
    except GraphQLError as error:
        return [error.message]
    graphql_schema = schema_from_sdl(schema.as_str())
    errors = list(check_document(graphql_schema, document, limits, {}))
    if not errors:
        rules = [*specified_rules, *([] if limits.introspection else [NoIntrospectionRule])]
        errors = validate(graphql_schema, document, rules)
    return [error.message for error in errors]
