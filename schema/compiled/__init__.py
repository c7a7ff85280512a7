"""Read queries answered from a plan, without executing GraphQL field by field.

graphql-core and Strawberry spend about 5 ms of CPU executing a 20-article page one field
at a time (bench/BENCHMARKS.md: value completion, resolver calls, ORM rows), where the
database needs a fraction of a millisecond. So, the way PostGraphile compiles GraphQL to
SQL, a document is planned once (``plan.py``: which root fields, columns, bylines and tags,
and how each response key is made, all from the fields' declarations in
``schema/sources.py``) and then answered with one statement per root field, read through
asyncpg (``models/rawdb.py``), its JSON built directly. Offices, authors and tags are
read by the resolvers' own functions (``read_named``, ``read_listed`` and ``total_of`` in
``schema/pagination.py``; an office's phones, hours and exceptions one statement each),
articles without a raw reader by theirs (``read_article``, ``read_articles``, ``count_of``
in ``schema/articles/queries.py``), an author's or tag's articles by the resolver's
DataLoader (one statement for the whole list, plus one per related kind), and each built
from those rows by the same declarations, on both databases.

It runs inside Strawberry's pipeline (``extension.PlannedReads`` sets the execution result
in ``on_execute``), so parsing, validation, the document policy (persisted and trusted
documents), the limits, error masking, headers, caching and metrics are the regular ones.

Layer: ``schema`` (imports ``models``; never ``server``). Root article reads go through the
``RawReader`` where the context carries one (PostgreSQL) and through the services
elsewhere (SQLite); plans are kept by whether there is one. Every viewer: what a viewer may
see is the services' ``visible_to`` predicate in the statement, so an editor's list has its
drafts.

Correctness before speed:

- The reads are the services' own statements (``page_statement``, ``lookup_statements``),
  so visibility (no drafts, nothing scheduled for later), filters, search and cursors are
  the same code; arguments mean what the resolvers make of them (``article_lookup``,
  ``article_list``); leaves are serialised by the schema's own scalar and enum types.
- Anything the plan cannot answer exactly (an undeclared field or argument, a domain error
  such as a bad cursor, a null in a non-null field, a database error) leaves the request to
  graphql-core, which answers with its errors. Tests compare both byte for byte.
"""

import logging
import weakref
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Generic, Literal

import orjson
import strawberry
from graphql import DocumentNode, GraphQLSchema, OperationDefinitionNode, get_named_type
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values

from models.author import Author
from models.columns import NOW
from models.errors import DomainError
from models.office import Office
from models.rawdb import Prepared, RawReader, Record, Uncompilable
from models.services import article_loaders, articles
from models.services.article_json import with_related
from models.services.article_loaders import Related as ArticleRelated
from models.services.catalog import Named
from models.services.pagination import (
    Ordering,
    Page,
    PageArgs,
    Window,
    make_page,
)
from models.tag import Tag
from models.viewer import Viewer
from schema.articles.queries import (
    article_list,
    article_lookup,
    count_of,
    read_article,
    read_articles,
)
from schema.articles.selection import PREFETCHED, ArticleSelection
from schema.articles.types import ArticleRows
from schema.bounded import Bounded, frozen_key
from schema.compiled.plan import (
    Fallback,
    NestedPage,
    Obj,
    Plan,
    Readers,
    RootField,
    build,
    operation_of,
    plan_operation,
    planned_variables,
)
from schema.context import Context
from schema.node import MAX_NODE_IDS, from_global_id
from schema.offices.queries import office_children
from schema.offices.types import OfficeChildren, OfficeRows
from schema.pagination import (
    Related,
    no_related,
    read_by_ids,
    read_listed,
    read_named,
    total_of,
)
from schema.sources import Root, declaration
from schema.strawberry_internals import graphql_schema, resolver_arguments

logger = logging.getLogger("vestnik.compiled")

_PLANNERS: "weakref.WeakKeyDictionary[strawberry.Schema, CompiledQueries]" = (
    weakref.WeakKeyDictionary()
)

# Distinct documents remembered per process (a site's frontends send a few dozen).
MAX_DOCUMENTS = 1000
# Prepared statements kept, by the arguments they were built from: e.g. one per article
# slug asked for recently.
MAX_STATEMENTS = 10_000


@dataclass(frozen=True)
class _Catalog(Generic[Named]):
    """How a catalog type's rows are read: by the resolvers' own reads (``read_named``,
    ``read_listed``), with the related rows ``related`` reads (by relation name)."""

    model: type[Named]
    related: Related = no_related
    readable: frozenset[str] = frozenset()
    rows: Callable[[Any], Any] = lambda related: related
    """The related rows as the type's derived values read them."""


_CATALOGS: dict[str, _Catalog[Any]] = {
    "Office": _Catalog(
        Office,
        office_children,
        frozenset(f.name for f in fields(OfficeChildren)),
        OfficeRows.of,
    ),
    "Author": _Catalog(Author),
    "Tag": _Catalog(Tag),
}
# The root fields' services (their declarations' ``via``) the catalog reads stand for.
_FIND, _LIST, _BY_ID = "catalog.find", "catalog.list_by_name", "resolve_node"


@dataclass(frozen=True)
class _ObjectRoot:
    catalog: _Catalog[Any]
    listed: bool


def _object_roots(schema: GraphQLSchema) -> dict[str, _ObjectRoot]:
    """The root fields declared as catalog reads, each with how its rows are read."""
    query = schema.query_type
    assert query is not None
    found = {}
    for name, source in declaration("Query").fields.items():
        if not isinstance(source, Root) or source.via not in (_FIND, _LIST):
            continue
        target = get_named_type(query.fields[name].type)
        if source.via == _LIST:
            target = get_named_type(target.fields["nodes"].type)
        catalog = _CATALOGS.get(target.name)
        if catalog is not None:
            found[name] = _ObjectRoot(catalog, listed=source.via == _LIST)
    return found


def planner_of(schema: strawberry.Schema) -> "CompiledQueries":
    """The schema's plans (made on first use, kept as long as the schema)."""
    found = _PLANNERS.get(schema)
    if found is None:
        found = _PLANNERS[schema] = CompiledQueries(schema)
    return found


class CompiledQueries:
    """Plans by document, and the statements they prepared; one per schema."""

    def __init__(self, schema: strawberry.Schema) -> None:
        self.strawberry_schema = schema
        self.schema: GraphQLSchema = graphql_schema(schema)
        self.objects = _object_roots(self.schema)
        counted = declaration("Connection").relations_of("totalCount")
        # By root field: the relations its reads can read.
        self.readers = Readers(
            objects={
                name: read.catalog.readable | (counted if read.listed else frozenset())
                for name, read in self.objects.items()
            },
            by_id={name: catalog.readable for name, catalog in _CATALOGS.items()},
            node_roots=frozenset(
                name
                for name, source in declaration("Query").fields.items()
                if isinstance(source, Root) and source.via == _BY_ID
            ),
        )
        # By (document text, operation name, raw reader): the plan, or None when it is not
        # plannable.
        self.known: OrderedDict[tuple[str, str | None, bool], Plan | _Variants | None] = (
            OrderedDict()
        )
        # By the inputs they were built from: statements ready to run.
        self.statements: Bounded[Any] = Bounded(MAX_STATEMENTS)

    def plan(
        self,
        query: str,
        document: DocumentNode,
        operation_name: str | None,
        variables: Mapping[str, Any] | None = None,
        raw: bool = True,
    ) -> Plan | None:
        """The plan for ``document`` (whose text is ``query``), made on first sight; where
        ``@skip``/``@include`` read variables, one per set of their values. ``raw``: the
        request has a raw reader for articles (otherwise they are read as objects)."""
        key = (query, operation_name, raw)
        operation = operation_of(document, operation_name)
        if operation is None:
            return None
        if key in self.known:
            self.known.move_to_end(key)
            found = self.known[key]
        else:
            names = planned_variables(document, operation)
            found = _Variants(names) if names else self._plan(document, operation_name, raw)
            self.known[key] = found
            if len(self.known) > MAX_DOCUMENTS:
                self.known.popitem(last=False)
        if not isinstance(found, _Variants):
            return found
        coerced = self._coerced(operation, variables)
        if coerced is None:
            return None  # graphql-core reports the variables' errors
        values = (frozen_key([coerced.coerced.get(name) for name in found.names]),)
        kept = found.plans.get(values)
        if kept is None:  # values not seen (or too big to keep, or forgotten)
            kept = self._plan(document, operation_name, raw, coerced) or NOT_PLANNED
            found.plans.put(values, kept)
        return kept or None

    def _plan(
        self,
        document: DocumentNode,
        operation_name: str | None,
        raw: bool,
        variables: VariableValues | None = None,
    ) -> Plan | None:
        plan = plan_operation(
            self.schema, document, operation_name, self.readers, variables, raw_articles=raw
        )
        if plan is None and raw:
            # E.g. articles' totalCount or jsonLd: not in a raw row, but read as objects.
            plan = plan_operation(
                self.schema, document, operation_name, self.readers, variables, raw_articles=False
            )
        if plan is None:
            logger.debug("not planned: operation %r", operation_name)
        return plan

    def _coerced(
        self, operation: OperationDefinitionNode, variables: Mapping[str, Any] | None
    ) -> VariableValues | None:
        """The request's variables as the executor sees them; None: they have errors."""
        definitions = operation.variable_definitions or ()
        coerced = get_variable_values(self.schema, definitions, dict(variables or {}))
        return None if isinstance(coerced, list) else coerced

    async def answer(
        self, plan: Plan, variables: Mapping[str, Any] | None, context: Context
    ) -> dict[str, object] | None:
        """The response's ``data``, or None: let graphql-core execute the document.

        Called from Strawberry's pipeline (``PlannedReads``), so the document has been
        parsed, validated and checked against the document policy and the limits.
        """
        coerced = self._coerced(plan.operation, variables)
        if coerced is None:
            return None  # graphql-core reports the variables' errors
        try:
            return {root.key: await self._root(root, coerced, context) for root in plan.roots}
        except (Fallback, DomainError, Uncompilable):
            return None
        except Exception as error:
            # E.g. the database is slow or down: graphql-core answers, with its own error
            # if it meets the same; an operator should still see why this path stepped aside.
            logger.warning("compiled query stepped aside: %s: %s", type(error).__name__, error)
            return None

    async def _root(self, root: RootField, variables: Any, context: Context) -> object:
        if root.name == "__typename":
            query = self.schema.query_type
            assert query is not None
            return query.name
        definition = self.schema.query_type.fields[root.name]  # type: ignore[union-attr]  # a schema has a query type
        arguments = get_argument_values(definition, root.node, variables)
        if root.name in self.objects:
            return await self._object(root, self.objects[root.name], arguments, context)
        if root.name in self.readers.node_roots:
            return await self._by_id(root, arguments, context)
        if root.selection is not None:
            return await self._article_objects(root, root.selection, arguments, context)
        viewer, reader, now = context.viewer, context.raw_reader, context.now
        if reader is None:
            raise Fallback  # PlannedReads runs such plans only with a reader
        # Statements differ by what the viewer may see (visible_to), not by who it is.
        key = (root, viewer.sees_unpublished, frozen_key(arguments))
        if root.name == "article":
            return await self._article(root, key, arguments, viewer, reader, now)
        return await self._articles(root, key, arguments, viewer, reader, now)

    async def _object(
        self, root: RootField, read: "_ObjectRoot", arguments: dict[str, Any], context: Context
    ) -> object:
        """A catalog type's object, or a page of them, read as their resolvers read them."""
        catalog, converted = read.catalog, self._converted(root, arguments)
        needs = root.relations & catalog.readable
        if not read.listed:
            found = await read_named(
                context, catalog.model, related=catalog.related, needs=needs, **converted
            )
            if found is None:
                return None
            row, related = found
            obj = Obj(row, catalog.rows(related), context)
            await self._read_pages(root.pages, [obj], context)
            return build(root.fields, obj)
        page, related_rows = await read_listed(
            context, catalog.model, PageArgs(**converted), catalog.related, needs
        )
        counted = root.relations - catalog.readable  # totalCount's
        total = await total_of(context, catalog.model)() if counted else None
        items = [Obj(row, catalog.rows(related_rows[row.id]), context) for row in page.items]
        await self._read_pages(root.pages, items, context)
        return build(root.fields, _ObjectPage(items, page, total))

    async def _article_objects(
        self,
        root: RootField,
        selection: ArticleSelection,
        arguments: dict[str, Any],
        context: Context,
    ) -> object:
        """``article``, ``articles`` without a raw reader: read as their resolvers read them."""
        converted = self._converted(root, arguments)
        if root.name == "article":
            found = await read_article(context, article_lookup(**converted), selection)
            if found is None:
                return None
            row, related = found
            [pk] = article_loaders.ids_of([row])
            return build(root.fields, Obj(row, ArticleRows.of(related, pk), context))
        asked = article_list(**converted)
        page, related = await read_articles(context, asked, selection)
        counted = root.relations - PREFETCHED  # totalCount's
        total = await count_of(context, asked)() if counted else None
        return build(root.fields, _ObjectPage(_article_objs(page, related, context), page, total))

    async def _read_pages(
        self, pages: Sequence[NestedPage], objs: list[Obj], context: Context
    ) -> None:
        """Each object's nested pages (``Author.articles``): one load per page asked for (and
        per count), by the loaders the relation names, for all the objects together."""
        loaders = context.loaders
        for nested in pages:
            converted = resolver_arguments(
                self.strawberry_schema, nested.parent, nested.name, nested.arguments
            )
            asked = PageArgs(**converted)
            keys = [(obj.row.id, asked, nested.selection) for obj in objs]
            found = await loaders.by_name(nested.via).load_many(keys)
            counts: list[int | None] = [None] * len(objs)
            if nested.counted_by is not None:
                counts = await loaders.by_name(nested.counted_by).load_many(
                    [obj.row.id for obj in objs]
                )
            for obj, (page, related), count in zip(objs, found, counts, strict=True):
                items = _article_objs(page, related, context)
                obj.pages[nested.key] = _ObjectPage(items, page, count)

    async def _by_id(self, root: RootField, arguments: dict[str, Any], context: Context) -> object:
        """``node(id)``, ``nodes(ids)``: catalog objects by global ID, each type's at once."""
        ids = arguments["ids"] if "ids" in arguments else [arguments["id"]]
        if len(ids) > MAX_NODE_IDS:
            raise Fallback  # the resolver's error
        wanted = [from_global_id(id) for id in ids]  # a bad one: the resolver's error
        found: dict[tuple[str, int], Any] = {}
        for type_name in dict.fromkeys(name for name, _pk in wanted):
            if type_name not in root.by_type:
                raise Fallback  # e.g. an article: graphql-core answers
            fields, relations, pages = root.by_type[type_name]
            catalog = _CATALOGS[type_name]
            pks = [pk for name, pk in wanted if name == type_name]
            rows = await read_by_ids(context, catalog.model, pks, catalog.related, relations)
            objs = {
                pk: Obj(row, catalog.rows(related), context) for pk, (row, related) in rows.items()
            }
            await self._read_pages(pages, list(objs.values()), context)
            for pk, obj in objs.items():
                found[type_name, pk] = build(fields, obj)
        answers = [found.get(key) for key in wanted]
        return answers if "ids" in arguments else answers[0]

    def _converted(self, root: RootField, arguments: dict[str, Any]) -> dict[str, Any]:
        """Arguments as the root field's resolver receives them."""
        return resolver_arguments(self.strawberry_schema, "Query", root.name, arguments)

    async def _article(
        self,
        root: RootField,
        key: tuple[Any, ...],
        arguments: dict[str, Any],
        viewer: Viewer,
        reader: RawReader,
        now: datetime,
    ) -> object:
        prepared: list[Prepared] | None = self.statements.get(key)
        if prepared is None:
            # A DomainError (e.g. neither id nor slug): the regular path words it.
            lookup = article_lookup(**self._converted(root, arguments))
            statements = articles.lookup_statements(
                viewer=viewer,
                now=NOW,
                id=lookup.id,
                slug=lookup.slug,
                language=lookup.language,
                columns=root.columns,
            )
            prepared = [reader.prepare(_related(stmt, root)) for stmt in statements]
            self.statements.put(key, prepared)
        for statement in prepared:
            rows = await reader.fetch_prepared(statement, now)
            if rows:
                return build(root.fields, _Row(rows[0], root))
        return None

    async def _articles(
        self,
        root: RootField,
        key: tuple[Any, ...],
        arguments: dict[str, Any],
        viewer: Viewer,
        reader: RawReader,
        now: datetime,
    ) -> object:
        found: tuple[Prepared, Ordering, Window] | None = self.statements.get(key)
        if found is None:
            asked = article_list(**self._converted(root, arguments))
            stmt, ordering, window = articles.page_statement(
                viewer=viewer,
                now=NOW,
                page=asked.page,
                filter=asked.filter,
                search=asked.search,
                order=asked.order,
                columns=root.columns,
                dialect="postgresql",
            )
            found = (reader.prepare(_related(stmt, root)), ordering, window)
            self.statements.put(key, found)
        prepared, ordering, window = found
        rows = await reader.fetch_prepared(prepared, now)
        return build(root.fields, make_page([_Row(row, root) for row in rows], ordering, window))


# Plans of one document by the values of the variables they are made for: a few each.
MAX_VARIANTS = 16
NOT_PLANNED: Literal[False] = False


class _Variants:
    """A document whose plans depend on the values of variables ``names``."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        self.plans: Bounded[Plan | Literal[False]] = Bounded(MAX_VARIANTS)


@dataclass(frozen=True)
class _ObjectPage:
    """A page of objects as the plan reads it (each carries its cursor)."""

    items: list[Obj]
    page: Page[Any]
    total_count: int | None

    def cursor(self, obj: Obj) -> str:
        return self.page.cursor(obj.row)

    @property
    def has_next(self) -> bool:
        return self.page.has_next

    @property
    def has_previous(self) -> bool:
        return self.page.has_previous

    @property
    def start_cursor(self) -> str | None:
        return self.page.start_cursor

    @property
    def end_cursor(self) -> str | None:
        return self.page.end_cursor


def _article_objs(page: Page[Any], related: ArticleRelated, request: Context) -> list[Obj]:
    return [Obj(row, ArticleRows.of(related, row.id), request) for row in page.items]


def _related(stmt: Any, root: RootField) -> Any:
    return with_related(stmt, authors=root.authors, tags=root.tags)


class _Row:
    """An article row: its columns by attribute (cursors read them so) and its relations."""

    __slots__ = ("authors", "record", "tags")

    def __init__(self, record: Record, root: RootField) -> None:
        self.record = record
        authors, tags = root.authors, root.tags
        self.authors = _items(record["authors"], authors) if authors is not None else []
        self.tags = _items(record["tags"], tags) if tags is not None else []

    def __getattr__(self, name: str) -> Any:
        return self.record[name]


def _items(encoded: str, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    return [dict(zip(columns, values, strict=True)) for values in orjson.loads(encoded)]
