"""Planning a known document: from its syntax tree to what to read and how to answer.

A plan covers an operation whose root fields are ``article``, ``articles``, ``__typename``,
the caller's ``objects`` (``office(s)``, ``author(s)``, ``tag(s)``) and its ``node_roots``
(``node``, ``nodes``: planned for each type read by ID; an article's ID steps aside):

- with a raw reader (``raw_articles``, PostgreSQL), articles at the root: their columns,
  ``id``, ``readingTimeMinutes``, ``__typename`` and the byline's and tags' text fields,
  read as one raw row per article (``models/rawdb.py``);
- every other object, articles at the root without a raw reader among them (the caller
  plans a document again so when its raw articles ask for more): every field
  its declaration (``schema/sources.py``) makes: columns (``editors_only`` ones null unless
  the request reads private fields), nested objects, relations without arguments (phones,
  an article's byline), functions of the row (breaks, the address, reading time) and
  derived values (``hoursText``, ``isOpen``/``nextChange`` at ``at``, ``jsonLd``), built
  from the rows the resolvers' own reads return;
- pages nested in those objects (``Author.articles``, ``Tag.articles``: a relation with
  arguments), read for every object of the list at once by the loader the relation names;
- on connections, ``nodes``, ``edges { cursor node }``, ``pageInfo`` and (raw articles
  aside) ``totalCount``.

``@skip``/``@include`` and inner fields' arguments are read while planning (a document
whose conditions or inner arguments read variables gets a plan per set of their values;
root fields' arguments are read by each answer). Anything else (corrections, translations,
revisions, a page nested in a nested object) makes
``plan_operation`` return None, and the document keeps going through graphql-core.
Fragments apply as graphql-core applies them: on the object's type, or an interface or
union it belongs to. Response keys keep the document's order and aliases, and fields
sharing a key are merged, as graphql-core's ``collect_fields`` does.
"""

import functools
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, cast

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLIncludeDirective,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLSkipDirective,
    GraphQLString,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionNode,
    SelectionSetNode,
    VariableNode,
    Visitor,
    get_named_type,
    is_abstract_type,
    is_leaf_type,
    is_non_null_type,
    visit,
)
from graphql.execution.values import VariableValues, get_argument_values, get_directive_values

from models.services.article_json import AUTHOR_JSON_COLUMNS, TAG_JSON_COLUMNS
from schema.articles.selection import PREFETCHED, ArticleSelection, selection_for
from schema.node import to_global_id
from schema.sources import (
    Column,
    Computed,
    Derive,
    GlobalId,
    Nested,
    Relation,
    Request,
    declaration,
)


class Fallback(Exception):
    """This request is not one the plan can answer exactly; graphql-core answers it."""


# A response value from its source: an article row, or an author's or tag's columns.
Make = Callable[[Any], object]
Fields = list[tuple[str, Make]]


@dataclass
class ArticleNeeds:
    """What one root field's article selections read, all of them together."""

    columns: set[str] = field(default_factory=set)
    author_columns: set[str] | None = None
    tag_columns: set[str] | None = None

    def authors(self) -> tuple[str, ...] | None:
        return None if self.author_columns is None else tuple(sorted(self.author_columns))

    def tags(self) -> tuple[str, ...] | None:
        return None if self.tag_columns is None else tuple(sorted(self.tag_columns))


@dataclass(frozen=True, eq=False)
class NestedPage:
    """A connection inside each object of a list (``Author.articles``): read for all of them
    at once by the loader the relation names (``via``), with these arguments."""

    key: str  # where each object keeps it (``Obj.pages``): its response key and its place
    parent: str  # the type whose field it is
    name: str  # the field
    via: str
    arguments: Mapping[str, Any]
    selection: ArticleSelection  # what is read of each article
    fields: Fields  # the connection's
    counted_by: str | None = None  # the loader of its totalCount, when asked for


@dataclass
class ObjectNeeds:
    """What the objects at one place of a document read: relations (by name), columns and
    the nested pages of each."""

    relations: set[str] = field(default_factory=set)
    columns: set[str] = field(default_factory=set)
    pages: list[NestedPage] = field(default_factory=list)


# Compared and hashed by identity: prepared statements are kept by (root field, arguments).
@dataclass(frozen=True, eq=False)
class RootField:
    key: str
    name: str  # "article", "articles", "__typename" or one of the plan's objects
    node: FieldNode
    needs: ArticleNeeds
    # For an object: its fields. For a connection: the connection's.
    fields: Fields
    # For the plan's objects: the relations (declared) the fields read, and nested pages.
    relations: frozenset[str] = frozenset()
    pages: tuple[NestedPage, ...] = ()
    # For objects found by global ID (node, nodes): the fields, relations and pages by type.
    by_type: Mapping[str, tuple[Fields, frozenset[str], tuple[NestedPage, ...]]] = field(
        default_factory=dict
    )
    # For articles read as objects (no raw reader): what is read of each.
    selection: ArticleSelection | None = None

    @functools.cached_property
    def columns(self) -> frozenset[str]:
        return frozenset(self.needs.columns)

    @functools.cached_property
    def authors(self) -> tuple[str, ...] | None:
        return self.needs.authors()

    @functools.cached_property
    def tags(self) -> tuple[str, ...] | None:
        return self.needs.tags()


# Root fields read through asyncpg (models/rawdb.py) where there is a raw reader; the
# others (and these without one) through the services.
RAW_ROOTS = frozenset({"article", "articles"})


@functools.cache
def _article_root_relations() -> frozenset[str]:
    """What a root list of articles read as objects reads: the relations an article read
    fetches with it (``PREFETCHED``) and the count."""
    # Looked up when first planned: schema.pagination declares Connection.
    return PREFETCHED | declaration("Connection").relations_of("totalCount")


@dataclass(frozen=True)
class Readers:
    """What a plan's caller can read besides articles: root fields answered with declared
    objects or a connection of them (each with the relations its reads read, ``totalCount``'s
    too), and the types read by global ID (with theirs) for the ``node_roots``."""

    objects: Mapping[str, frozenset[str]] = field(default_factory=dict)
    by_id: Mapping[str, frozenset[str]] = field(default_factory=dict)
    node_roots: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Plan:
    operation: OperationDefinitionNode
    roots: tuple[RootField, ...]

    @functools.cached_property
    def reads_raw(self) -> bool:
        """Some root field needs the request's raw reader (PostgreSQL)."""
        return any(root.name in RAW_ROOTS and root.selection is None for root in self.roots)


@dataclass(slots=True, eq=False)  # one per row built: plain slots are the cheapest to make
class Obj:
    """An object the plan builds a response value from: a row (read by column name), the
    related rows its relations read (by relation name; None: none), the request asking."""

    row: Any
    related: Any
    request: Request
    pages: dict[str, Any] = field(default_factory=dict)
    """Its nested pages, by response key (filled in after the rows are read)."""


def operation_of(
    document: DocumentNode, operation_name: str | None
) -> OperationDefinitionNode | None:
    """The query operation a request runs (None: not one, or not a query)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        operation = operations[0] if len(operations) == 1 else None
    else:
        named = [o for o in operations if o.name and o.name.value == operation_name]
        operation = named[0] if len(named) == 1 else None
    if operation is None or operation.operation is not OperationType.QUERY:
        return None
    return operation


class _Uses(Visitor):
    """The variables a part of a document reads."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_variable_definition(self, *_args: Any) -> Any:
        return self.SKIP  # declares the variable, does not read it

    def enter_variable(self, node: VariableNode, *_args: Any) -> None:
        self.names.add(node.name.value)


def planned_variables(
    document: DocumentNode, operation: OperationDefinitionNode
) -> tuple[str, ...]:
    """The variables a plan of ``operation`` is made for, sorted: those that conditions
    (``@skip``/``@include``) and inner fields' arguments read. Root fields' arguments are
    read again by every request's answer, so a plan holds for any value of those."""
    uses = _Uses()
    for selection in operation.selection_set.selections:
        if isinstance(selection, FieldNode):
            for part in (*(selection.directives or ()), selection.selection_set):
                if part is not None:
                    visit(part, uses)
        else:
            visit(selection, uses)
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode):
            visit(definition, uses)
    return tuple(sorted(uses.names))


def plan_operation(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    readers: "Readers | None" = None,
    variables: VariableValues | None = None,
    raw_articles: bool = True,
) -> Plan | None:
    """The plan for the operation a request runs, or None when it is not plannable.

    ``readers``: what the caller can read besides articles. ``raw_articles``: articles are
    read as raw rows (PostgreSQL's raw reader); otherwise as objects, as the resolvers read
    them.
    ``@skip``/``@include`` and inner fields' arguments are read while planning, with the
    coerced ``variables``: the plan holds for requests with the same values of
    ``planned_variables(document, operation)``.
    """
    operation = operation_of(document, operation_name)
    if operation is None:
        return None
    if operation.directives or any(v.directives for v in operation.variable_definitions or ()):
        return None
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    try:
        planner = _Planner(schema, fragments, readers or Readers(), variables, raw_articles)
        return planner.operation(operation)
    except _NotPlannable:
        return None


class _NotPlannable(Exception):
    pass


_CONDITIONS = frozenset({GraphQLSkipDirective.name, GraphQLIncludeDirective.name})


class _Planner:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        readers: "Readers",
        variables: VariableValues | None,
        raw_articles: bool = True,
    ):
        self.schema = schema
        self.fragments = fragments
        self.objects = readers.objects
        self.readers = readers
        self.variables = variables
        self.raw_articles = raw_articles

    def type(self, name: str) -> GraphQLObjectType:
        found = self.schema.get_type(name)
        if not isinstance(found, GraphQLObjectType):
            raise _NotPlannable
        return found

    def operation(self, operation: OperationDefinitionNode) -> Plan:
        query = self.schema.query_type
        assert query is not None
        roots = []
        for key, nodes in self.collect(operation.selection_set, query).items():
            name = nodes[0].name.value
            needs = ArticleNeeds()
            if name != "__typename":
                self.check_arguments(query, name)
            if name == "__typename":
                roots.append(RootField(key, name, nodes[0], needs, []))
            elif name in RAW_ROOTS and not self.raw_articles:
                found = ObjectNeeds()
                fields = self.root_object(self.selections(nodes), query, name, found)
                if found.pages or not found.relations <= _article_root_relations():
                    raise _NotPlannable
                selection = selection_for(found.columns, found.relations)
                relations = frozenset(found.relations)
                roots.append(
                    RootField(key, name, nodes[0], needs, fields, relations, selection=selection)
                )
            elif name == "article":
                fields = self.article(self.selections(nodes), needs)
                roots.append(RootField(key, name, nodes[0], needs, fields))
            elif name == "articles":
                fields = self.connection(
                    self.selections(nodes),
                    "ArticleConnection",
                    partial(self.article, needs=needs),
                    None,
                )
                roots.append(RootField(key, name, nodes[0], needs, fields))
            elif name in self.objects:
                found = ObjectNeeds()
                fields = self.root_object(self.selections(nodes), query, name, found)
                if not found.relations <= self.objects[name]:
                    raise _NotPlannable
                roots.append(
                    RootField(
                        key,
                        name,
                        nodes[0],
                        needs,
                        fields,
                        frozenset(found.relations),
                        tuple(found.pages),
                    )
                )
            elif name in self.readers.node_roots:
                by_type = {}
                for type_name, readable in self.readers.by_id.items():
                    found = ObjectNeeds()
                    fields = self.object(self.selections(nodes), type_name, found)
                    if not found.relations <= readable:
                        raise _NotPlannable
                    by_type[type_name] = (fields, frozenset(found.relations), tuple(found.pages))
                roots.append(RootField(key, name, nodes[0], needs, [], by_type=by_type))
            else:
                raise _NotPlannable
        return Plan(operation, tuple(roots))

    def root_object(
        self,
        selection_set: SelectionSetNode,
        query: GraphQLObjectType,
        name: str,
        needs: ObjectNeeds,
    ) -> Fields:
        """Root field ``name``'s declared object, or connection of them (by its type)."""
        target = get_named_type(query.fields[name].type)
        if not isinstance(target, GraphQLObjectType):
            raise _NotPlannable
        item = _item_type(target)
        if item is None:
            return self.object(selection_set, target.name, needs)
        node = partial(self.object, type_name=item, needs=needs)
        return self.connection(selection_set, target.name, node, needs.relations)

    def check_arguments(self, parent: GraphQLObjectType, name: str) -> None:
        """Every argument the schema gives the field is declared (its meaning is known)."""
        try:
            declared = declaration(parent.name).arguments(name)
        except KeyError:
            raise _NotPlannable from None
        if not set(parent.fields[name].args) <= declared:
            raise _NotPlannable

    # --- selections -------------------------------------------------------------------

    def collect(
        self, selection_set: SelectionSetNode | None, parent: GraphQLObjectType
    ) -> dict[str, list[FieldNode]]:
        """Fields by response key, fragments flattened, in document order."""
        if selection_set is None:
            raise _NotPlannable
        collected: dict[str, list[FieldNode]] = {}
        for node in self._fields(selection_set, parent, set()):
            key = node.alias.value if node.alias else node.name.value
            collected.setdefault(key, []).append(node)
        return collected

    def _fields(
        self, selection_set: SelectionSetNode, parent: GraphQLObjectType, seen: set[str]
    ) -> Iterator[FieldNode]:
        for selection in selection_set.selections:
            if selection.directives and not self.included(selection):
                continue
            if isinstance(selection, FieldNode):
                yield selection
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if condition is None or self.applies(condition.name.value, parent):
                    yield from self._fields(selection.selection_set, parent, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None:
                    raise _NotPlannable
                if not self.applies(fragment.type_condition.name.value, parent):
                    continue
                if name not in seen:  # a fragment spread twice adds nothing the second time
                    yield from self._fields(fragment.selection_set, parent, seen | {name})

    def applies(self, type_name: str, parent: GraphQLObjectType) -> bool:
        """A fragment on ``type_name`` applies to objects of ``parent``'s type (it is that
        type, or an interface or union it belongs to), as graphql-core decides it."""
        if type_name == parent.name:
            return True
        condition = self.schema.get_type(type_name)
        return is_abstract_type(condition) and self.schema.is_sub_type(condition, parent)

    def included(self, selection: SelectionNode) -> bool:
        """``@skip``/``@include`` let ``selection`` in, as graphql-core decides it."""
        if any(d.name.value not in _CONDITIONS for d in selection.directives or ()):
            raise _NotPlannable
        try:
            skip = get_directive_values(GraphQLSkipDirective, selection, self.variables)
            include = get_directive_values(GraphQLIncludeDirective, selection, self.variables)
        except GraphQLError:
            raise _NotPlannable from None  # e.g. no value for the condition: graphql-core says
        if skip and skip["if"]:
            return False
        return not (include and not include["if"])

    def selections(self, nodes: Sequence[FieldNode]) -> SelectionSetNode:
        """The merged selection set of the fields sharing one response key."""
        selections: list[SelectionNode] = []
        for node in nodes:
            if node.selection_set is None:
                raise _NotPlannable
            selections.extend(node.selection_set.selections)
        return SelectionSetNode(selections=tuple(selections))

    def fields_of(
        self, selection_set: SelectionSetNode, parent: GraphQLObjectType
    ) -> Iterator[tuple[str, str, list[FieldNode]]]:
        for key, nodes in self.collect(selection_set, parent).items():
            if any(node.arguments for node in nodes):
                raise _NotPlannable
            yield key, nodes[0].name.value, nodes

    # --- types ------------------------------------------------------------------------

    def article(self, selection_set: SelectionSetNode, needs: ArticleNeeds) -> Fields:
        parent = self.type("Article")
        declared = declaration(parent.name)
        fields: Fields = []
        for key, name, nodes in self.fields_of(selection_set, parent):
            source = declared.fields.get(name)
            if name == "__typename":
                fields.append((key, _constant(parent.name)))
            elif isinstance(source, GlobalId):
                fields.append((key, _article_id))
            elif isinstance(source, Column) and not source.editors_only:
                needs.columns.add(source.name)
                fields.append((key, _leaf(parent.fields[name].type, _column(source.name))))
            elif isinstance(source, Computed) and source.function is not None:
                needs.columns.update(source.columns)
                fields.append((key, _leaf(parent.fields[name].type, _computed(source))))
            elif name == "authors":
                if needs.author_columns is None:
                    needs.author_columns = {"id"}
                nested = self.named(
                    self.selections(nodes), "Author", AUTHOR_JSON_COLUMNS, needs.author_columns
                )
                fields.append((key, _list_of("authors", nested)))
            elif name == "tags":
                if needs.tag_columns is None:
                    needs.tag_columns = {"id"}
                nested = self.named(
                    self.selections(nodes), "Tag", TAG_JSON_COLUMNS, needs.tag_columns
                )
                fields.append((key, _list_of("tags", nested)))
            else:
                raise _NotPlannable
        return fields

    def named(
        self,
        selection_set: SelectionSetNode,
        type_name: str,
        readable: frozenset[str],
        columns: set[str],
    ) -> Fields:
        """An author or tag: its ``readable`` columns come as a dict from the row's JSON."""
        parent = self.type(type_name)
        declared = declaration(type_name)
        fields: Fields = []
        for key, name, _nodes in self.fields_of(selection_set, parent):
            source = declared.fields.get(name)
            if name == "__typename":
                fields.append((key, _constant(parent.name)))
            elif isinstance(source, GlobalId):
                fields.append((key, _global_id(type_name)))
            elif isinstance(source, Column) and not source.editors_only and source.name in readable:
                columns.add(source.name)
                fields.append((key, _leaf(parent.fields[name].type, _item(source.name))))
            else:
                raise _NotPlannable
        return fields

    def object(
        self, selection_set: SelectionSetNode, type_name: str, needs: ObjectNeeds | None
    ) -> Fields:
        """An object of ``type_name`` whose every field its declaration makes, built from an
        ``Obj``. What its fields read is added to ``needs`` (None: it reads no relations)."""
        parent = self.type(type_name)
        declared = declaration(type_name)
        fields: Fields = []
        for key, nodes in self.collect(selection_set, parent).items():
            name = nodes[0].name.value
            if name == "__typename":
                fields.append((key, _constant(parent.name)))
                continue
            source = declared.fields.get(name)
            definition = parent.fields.get(name)
            if source is None or definition is None:
                raise _NotPlannable
            arguments = self.arguments(parent, name, nodes)
            target = get_named_type(definition.type)
            if isinstance(source, Relation) and source.arguments and needs is not None:
                # The same objects can be reached twice (``nodes`` and ``edges.node``), each
                # time with another page under the same response key: each page its own slot.
                slot = f"{key}#{len(needs.pages)}"
                page = self.nested_page(slot, parent, name, source, arguments, nodes)
                needs.pages.append(page)
                fields.append((key, _page_at(slot, page.fields)))
                continue
            if arguments and not (isinstance(source, Computed) and source.derive is not None):
                raise _NotPlannable
            if needs is not None:
                needs.relations |= declared.relations_of(name)
                needs.columns |= declared.columns_of(name) or frozenset()
            elif declared.relations_of(name):
                raise _NotPlannable
            if isinstance(source, GlobalId):
                fields.append((key, _object_id(type_name)))
            elif isinstance(source, Column):
                value = (_private if source.editors_only else _row_column)(source.name)
                fields.append((key, _leaf(definition.type, value)))
            elif isinstance(source, Nested):
                nested = self.object(self.selections(nodes), source.target, None)
                fields.append((key, _same_row(nested)))
            elif isinstance(source, Relation) and not source.editors_only and not source.arguments:
                related = self.object(self.selections(nodes), source.target, None)
                fields.append((key, _related(name, related)))
            elif isinstance(source, Computed) and source.derive is not None:
                fields.append((key, _leaf(definition.type, _derived(source.derive, arguments))))
            elif isinstance(source, Computed) and source.function is not None:
                value = _row_computed(source)
                if is_leaf_type(target):
                    fields.append((key, _leaf(definition.type, value)))
                else:
                    # Objects made by the function (e.g. breaks): their fields read them as rows.
                    if not isinstance(target, GraphQLObjectType) or not _read_as_rows(target.name):
                        raise _NotPlannable
                    made = self.object(self.selections(nodes), target.name, None)
                    fields.append((key, _made_list(value, made)))
            else:
                raise _NotPlannable
        return fields

    def nested_page(
        self,
        key: str,
        parent: GraphQLObjectType,
        name: str,
        source: Relation,
        arguments: Mapping[str, Any],
        nodes: Sequence[FieldNode],
    ) -> NestedPage:
        """A page of articles in each object (``Author.articles``), read by its loader."""
        target = get_named_type(parent.fields[name].type)
        if not isinstance(target, GraphQLObjectType) or _item_type(target) != "Article":
            raise _NotPlannable
        inner, counted = ObjectNeeds(), set[str]()
        node = partial(self.object, type_name="Article", needs=inner)
        fields = self.connection(self.selections(nodes), target.name, node, counted)
        if inner.pages or not inner.relations <= PREFETCHED:
            raise _NotPlannable
        if counted and source.counted_by is None:
            raise _NotPlannable
        selection = selection_for(inner.columns, inner.relations)
        count = source.counted_by if counted else None
        return NestedPage(
            key, parent.name, name, source.via, dict(arguments), selection, fields, count
        )

    def arguments(
        self, parent: GraphQLObjectType, name: str, nodes: Sequence[FieldNode]
    ) -> dict[str, Any]:
        """The arguments a field is given, all declared, as graphql-core reads them (with
        the variables the plan is made for)."""
        node = nodes[0]
        if not node.arguments:
            return {}
        self.check_arguments(parent, name)
        try:
            return get_argument_values(parent.fields[name], node, self.variables)
        except GraphQLError:
            raise _NotPlannable from None  # graphql-core reports it

    def connection(
        self,
        selection_set: SelectionSetNode,
        type_name: str,
        node: Callable[[SelectionSetNode], Fields],
        relations: set[str] | None,
    ) -> Fields:
        """A connection (``type_name``) whose nodes' selections ``node`` plans; the relations
        its own fields read (``totalCount``'s) go to ``relations`` (None: it reads none)."""
        parent = self.type(type_name)
        declared = declaration(type_name)
        fields: Fields = []
        for key, name, nodes in self.fields_of(selection_set, parent):
            if name == "totalCount" and relations is not None:
                relations |= declared.relations_of(name)
                fields.append((key, _leaf(parent.fields[name].type, _attribute("total_count"))))
            elif name == "__typename":
                fields.append((key, _constant(parent.name)))
            elif name == "nodes":
                fields.append((key, _nodes(node(self.selections(nodes)))))
            elif name == "edges":
                edge_type = type_name.removesuffix("Connection") + "Edge"
                fields.append((key, _edges(self.edge(self.selections(nodes), edge_type, node))))
            elif name == "pageInfo":
                fields.append((key, _object(self.page_info(self.selections(nodes)))))
            else:
                raise _NotPlannable
        return fields

    def edge(
        self,
        selection_set: SelectionSetNode,
        type_name: str,
        node: Callable[[SelectionSetNode], Fields],
    ) -> Fields:
        parent = self.type(type_name)
        fields: Fields = []
        for key, name, nodes in self.fields_of(selection_set, parent):
            if name == "__typename":
                fields.append((key, _constant(parent.name)))
            elif name == "cursor":
                fields.append((key, _edge_cursor))
            elif name == "node":
                fields.append((key, _edge_node(node(self.selections(nodes)))))
            else:
                raise _NotPlannable
        return fields

    def page_info(self, selection_set: SelectionSetNode) -> Fields:
        parent = self.type("PageInfo")
        attributes = {name: s.name for name, s in declaration("PageInfo").column_fields().items()}
        fields: Fields = []
        for key, name, _nodes in self.fields_of(selection_set, parent):
            if name == "__typename":
                fields.append((key, _constant(parent.name)))
            elif name in attributes:
                fields.append((key, _attribute(attributes[name])))
            else:
                raise _NotPlannable
        return fields


# --- response values -------------------------------------------------------------------


def build(fields: Fields, source: Any) -> dict[str, object]:
    return {key: make(source) for key, make in fields}


def _constant(value: str) -> Make:
    return lambda _source: value


def _column(name: str) -> Make:
    return lambda row: row.record[name]


def _item(name: str) -> Make:
    return operator.itemgetter(name)


def _attribute(name: str) -> Make:
    return operator.attrgetter(name)


def _leaf(graphql_type: GraphQLOutputType, value: Make) -> Make:
    """Serialised as graphql-core serialises the resolver's value; null only where allowed."""
    named = get_named_type(graphql_type)
    if not is_leaf_type(named):
        raise _NotPlannable
    non_null = is_non_null_type(graphql_type)
    serialize: Callable[[Any], object] = named.serialize
    if isinstance(named, GraphQLEnumType):
        serialize = _kept(serialize)
    string = named is GraphQLString

    def make(source: Any) -> object:
        found = value(source)
        if string and type(found) is str:
            return found  # what String's serialize returns for a str
        if found is None:
            if non_null:
                raise Fallback  # graphql-core reports an error there: let it
            return None
        return serialize(found)

    return make


def _kept(serialize: Callable[[Any], object]) -> Callable[[Any], object]:
    """An enum's ``serialize``, kept per value: Strawberry's looks a member up among all the
    enum's values each time (a weekday, a phone's kind: hundreds a page)."""
    kept: dict[Any, object] = {}

    def serialized(value: Any) -> object:
        try:
            return kept[value]
        except KeyError:
            kept[value] = found = serialize(value)
            return found
        except TypeError:  # not hashable
            return serialize(value)

    return serialized


def _object_id(type_name: str) -> Make:
    return lambda obj: to_global_id(type_name, obj.row.id)


def _row_column(name: str) -> Make:
    return operator.attrgetter(f"row.{name}")  # obj.row.<name>, without a Python frame


def _private(name: str) -> Make:
    return lambda obj: getattr(obj.row, name) if obj.request.reads_private else None


def _row_computed(source: Computed) -> Make:
    """``source``'s function of the row's columns (``Computed.value``, without its column
    accessor: some 600 values a page)."""
    function, columns = source.function, source.columns
    assert function is not None
    if not columns:
        return lambda _obj: function()
    if len(columns) == 1:
        [name] = columns
        return lambda obj: function(getattr(obj.row, name))
    get = operator.attrgetter(*columns)
    return lambda obj: function(*get(obj.row))


def _same_row(fields: Fields) -> Make:
    return lambda obj: build(fields, obj)


def _related(name: str, fields: Fields) -> Make:
    def make(obj: Obj) -> object:
        return [build(fields, Obj(row, None, obj.request)) for row in getattr(obj.related, name)]

    return make


def _made_list(value: Make, fields: Fields) -> Make:
    def make(obj: Obj) -> object:
        return [
            build(fields, Obj(made, None, obj.request)) for made in cast(Iterable[Any], value(obj))
        ]

    return make


def _derived(derive: Derive, arguments: Mapping[str, Any]) -> Make:
    return lambda obj: derive(obj.row, obj.related, arguments, obj.request)


def _item_type(connection: GraphQLObjectType) -> str | None:
    """The type of a connection's items (None: ``connection`` is not one)."""
    nodes = connection.fields.get("nodes") if connection.name.endswith("Connection") else None
    return None if nodes is None else get_named_type(nodes.type).name


def _page_at(key: str, fields: Fields) -> Make:
    return lambda obj: build(fields, obj.pages[key])


def _read_as_rows(type_name: str) -> bool:
    """Objects of this type can be read by column name (each column is the attribute)."""
    declared = declaration(type_name)
    return all(
        isinstance(s, Column) and s.attribute is None and not s.editors_only
        for s in declared.fields.values()
    )


def _article_id(row: Any) -> object:
    return to_global_id("Article", row.record["id"])


def _global_id(type_name: str) -> Make:
    return lambda columns: to_global_id(type_name, columns["id"])


def _computed(source: Computed) -> Make:
    return lambda row: source.value(row.record.__getitem__)


def _list_of(attribute: str, fields: Fields) -> Make:
    def make(row: Any) -> object:
        return [build(fields, columns) for columns in getattr(row, attribute)]

    return make


def _nodes(article: Fields) -> Make:
    return lambda page: [build(article, row) for row in page.items]


def _edges(edge: Fields) -> Make:
    def make(page: Any) -> object:
        return [build(edge, (row, page)) for row in page.items]

    return make


def _edge_cursor(edge: tuple[Any, Any]) -> object:
    row, page = edge
    return page.cursor(row)


def _edge_node(article: Fields) -> Make:
    return lambda edge: build(article, edge[0])


def _object(fields: Fields) -> Make:
    return lambda source: build(fields, source)
