"""The whole schema: every domain's queries merged, plus Relay's ``node``."""

import asyncio
import logging

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from models.db import database_failure
from models.errors import AccessDenied, DomainError, InvalidInput
from schema.articles.mutations import ArticleMutation
from schema.articles.queries import ArticleQuery
from schema.articles.types import ArticleType
from schema.audit.queries import AuditQuery
from schema.authors.mutations import AuthorMutation
from schema.authors.queries import AuthorQuery
from schema.authors.types import AuthorType
from schema.bounded import Bounded
from schema.compiled.extension import PlannedReads
from schema.context import Info
from schema.errors import ErrorPolicy
from schema.limits import LIMIT_REFUSALS, QueryLimits, QueryLimitsExtension, batching_config
from schema.node import MAX_NODE_IDS, Node, from_global_id
from schema.offices.mutations import OfficeMutation
from schema.offices.queries import OfficeQuery
from schema.offices.types import OfficeType
from schema.persisted import DOCUMENT_REFUSALS, DocumentPolicy, DocumentStore, PersistedDocuments
from schema.sources import Root, declare_roots
from schema.subscriptions.context import TRANSPORT_REFUSALS, TransportRules
from schema.subscriptions.types import Subscription
from schema.tags.mutations import TagMutation
from schema.tags.queries import TagQuery
from schema.tags.types import TagType
from schema.tokens.mutations import TokenMutation
from schema.tokens.queries import TokenQuery
from schema.validation_cache import ValidDocuments
from schema.webhooks.mutations import WebhookMutation
from schema.webhooks.queries import WebhookQuery


async def resolve_node(info: Info, id: str) -> Node | None:
    type_name, pk = from_global_id(id)
    loaders = info.context.loaders
    if type_name == "Article":
        article = await loaders.article.load(pk)
        return ArticleType.from_model(article) if article else None
    if type_name == "Author":
        author = await loaders.author.load(pk)
        return AuthorType.from_model(author) if author else None
    if type_name == "Tag":
        tag = await loaders.tag.load(pk)
        return TagType.from_model(tag) if tag else None
    office = await loaders.office.load(pk)
    return OfficeType.from_model(office) if office else None


declare_roots(
    {
        "node": Root("resolve_node", arguments=frozenset({"id"})),
        "nodes": Root("resolve_node", arguments=frozenset({"ids"})),
    }
)


@strawberry.type
class NodeQuery:
    @strawberry.field(description="Any object by its global ID.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await resolve_node(info, id)

    @strawberry.field(description="Several objects by global ID, in the order given.")
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        if len(ids) > MAX_NODE_IDS:
            raise InvalidInput(f"At most {MAX_NODE_IDS} ids at once", field="ids")
        # Gathered, so the loaders see every key at once and batch them.
        return list(await asyncio.gather(*(resolve_node(info, id) for id in ids)))


QUERIES = (
    NodeQuery,
    ArticleQuery,
    AuthorQuery,
    TagQuery,
    OfficeQuery,
    AuditQuery,
    TokenQuery,
    WebhookQuery,
)
MUTATIONS = (
    ArticleMutation,
    AuthorMutation,
    TagMutation,
    OfficeMutation,
    TokenMutation,
    WebhookMutation,
)

Query = merge_types("Query", QUERIES)
Mutation = merge_types("Mutation", MUTATIONS)

REFUSALS = LIMIT_REFUSALS | DOCUMENT_REFUSALS | TRANSPORT_REFUSALS


logger = logging.getLogger("vestnik.errors")


class VestnikSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log only unexpected errors; a client's bad input is not a server problem."""
        unexpected = [
            e
            for e in errors
            if not isinstance(e.original_error, (DomainError, AccessDenied))
            # Refusing hostile or stale documents is the limits working, not a failure.
            and (e.extensions or {}).get("code") not in REFUSALS
            # No resolver ran: a document or variables that do not parse or validate, which
            # the client is told about (a variable's own error is a GraphQLError too).
            and not (
                e.path is None
                and (e.original_error is None or isinstance(e.original_error, GraphQLError))
            )
        ]
        for error in unexpected:
            if database_failure(error.original_error) is not None:
                # An outage: one line per request, not a traceback per field.
                cause = error.original_error
                # The type too: a timeout's message is empty.
                logger.warning(
                    "database unavailable at %s: %s: %s", error.path, type(cause).__name__, cause
                )
        unexpected = [e for e in unexpected if database_failure(e.original_error) is None]
        super().process_errors(unexpected, execution_context)


# Documents with their variables, e.g. one per article slug asked for recently.
MAX_KEPT_VERDICTS = 10_000


def build_schema(
    limits: QueryLimits | None = None, documents: DocumentPolicy | None = None
) -> strawberry.Schema:
    """The schema, enforcing ``limits`` and accepting persisted documents per ``documents``.

    Both default to the server's default settings; neither changes the SDL.
    """
    limits = limits or QueryLimits()
    documents = documents or DocumentPolicy()
    store = DocumentStore()  # one per schema: the server builds one schema per process
    within_limits: Bounded[bool] = Bounded(MAX_KEPT_VERDICTS)
    return VestnikSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[ArticleType, AuthorType, TagType, OfficeType],
        extensions=[
            # First: it turns a persisted request into its query before anything reads it.
            lambda: PersistedDocuments(store, documents),
            lambda: QueryLimitsExtension(limits, within_limits),
            TransportRules,
            # After the limits and transport rules: only a document they let through is
            # validated (and kept as valid).
            ValidDocuments,
            lambda: ErrorPolicy(hide_suggestions=not limits.introspection),
            # Last: a plan answers only what every check before it let through.
            PlannedReads,
        ],
        config=StrawberryConfig(batching_config=batching_config(limits)),
    )
