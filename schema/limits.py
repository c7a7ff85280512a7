"""Limits against hostile documents, all enforced before a single resolver runs.

- Tokens: counted by graphql-core's parser (``max_tokens``, comments included), so an
  oversized document is abandoned while it is read, before its syntax tree exists.
- Depth, aliases and cost: measured in one walk over every operation, fragments
  expanded, just before validation; a document over a limit is refused without running
  graphql-core's validation at all (its overlapping-fields rule is the costly part).
  Each fragment is measured once per operation and reused, so fragments that spread each
  other many times cannot make the walk exponential; a fragment on a cycle counts as
  empty where it recurs, so the walk ends (and ``NoFragmentCyclesRule`` reports it).
- Introspection: when off, ``__schema`` and ``__type`` are refused (``__typename`` stays:
  clients need it to tell union members apart), and the error policy drops graphql-core's
  "Did you mean ...?" suggestions, which would otherwise spell the schema out.

Depth counts one per nested field, except ``__Type.ofType``: it unwraps a type reference
(one object, never a list), and GraphiQL's own introspection query nests it nine times.
Cost: every field costs 1, times the page sizes of the lists it is inside. A
connection's page size is its ``first`` or ``last`` (20 when absent, counted as 1 to 100,
the range pagination accepts); a list fetched by a list argument (``nodes(ids:)``) has
the length of that list. Variables come from the request, then from their defaults.
"""

import contextlib
import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from typing import Any, Self

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLFieldMap,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSyntaxError,
    InlineFragmentNode,
    Node,
    OperationDefinitionNode,
    SchemaMetaFieldDef,
    SelectionSetNode,
    TypeMetaFieldDef,
    TypeNameMetaFieldDef,
    ValidationRule,
    get_named_type,
    get_nullable_type,
    is_list_type,
    parse,
    value_from_ast_untyped,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import BatchingConfig

from models.services.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from schema.bounded import Bounded, frozen_key
from schema.strawberry_internals import graphql_schema

QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
TOO_MANY_TOKENS = "TOO_MANY_TOKENS"
INTROSPECTION_DISABLED = "INTROSPECTION_DISABLED"
LIMIT_REFUSALS = frozenset(
    {QUERY_TOO_DEEP, TOO_MANY_ALIASES, QUERY_TOO_COMPLEX, TOO_MANY_TOKENS, INTROSPECTION_DISABLED}
)

# In graphql-core's syntax error when the parser gives up on ``max_tokens`` (3.3: lexer.py,
# parser.py); a test fails if a new version words it differently.
_TOKEN_LIMIT_MESSAGE = "Document contains more than "
# Fragments spread within fragments multiply counts without bound; past this they stop
# growing, so a hostile document cannot make the walker juggle enormous integers.
CEILING = 10**9


@dataclass(frozen=True)
class QueryLimits:
    """The limits one schema enforces; the server fills them from its Settings.

    The field names are the Settings' names, so ``from_settings`` can copy them over
    without the schema importing the server.
    """

    introspection: bool = True
    max_query_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 3000
    max_query_cost: int = 5000
    max_batch_size: int = 0

    @classmethod
    def from_settings(cls, settings: object) -> Self:
        """Copy the limits from any object with attributes of these names."""
        return cls(**{field.name: getattr(settings, field.name) for field in fields(cls)})


def refusal(message: str, code: str, nodes: Node | list[Node] | None = None) -> GraphQLError:
    """A refused document: a message for people, a code for programs, nothing internal."""
    return GraphQLError(message, nodes, extensions={"code": code})


@dataclass(frozen=True)
class Measure:
    depth: int = 0
    aliases: int = 0
    cost: int = 0

    def beside(self, other: "Measure") -> "Measure":
        """Two selections side by side: the deeper depth, the sum of the rest."""
        return Measure(
            depth=max(self.depth, other.depth),
            aliases=min(self.aliases + other.aliases, CEILING),
            cost=min(self.cost + other.cost, CEILING),
        )


EMPTY = Measure()
_META_FIELDS: dict[str, GraphQLField] = {
    "__schema": SchemaMetaFieldDef,
    "__type": TypeMetaFieldDef,
    "__typename": TypeNameMetaFieldDef,
}


class OperationMeasurer:
    """Measures one operation: its depth, its aliases and its cost, fragments expanded."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: dict[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        # A fragment's measure, once known; None while it is being measured (a cycle).
        self.measured: dict[str, Measure | None] = {}

    def operation(self, operation: OperationDefinitionNode) -> Measure:
        root = self.schema.get_root_type(operation.operation)
        return self.selection_set(operation.selection_set, root)

    def selection_set(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType | None
    ) -> Measure:
        total = EMPTY
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total = total.beside(self.field(selection, parent))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                on = self.schema.get_type(condition.name.value) if condition else parent
                total = total.beside(self.selection_set(selection.selection_set, on))
            elif isinstance(selection, FragmentSpreadNode):
                total = total.beside(self.fragment(selection.name.value))
        return total

    def fragment(self, name: str) -> Measure:
        if name in self.measured:
            return self.measured[name] or EMPTY  # None: this spread closes a cycle
        definition = self.fragments.get(name)
        if definition is None:
            return EMPTY  # unknown fragment: KnownFragmentNamesRule reports it
        self.measured[name] = None
        on = self.schema.get_type(definition.type_condition.name.value)
        measure = self.selection_set(definition.selection_set, on)
        self.measured[name] = measure
        return measure

    def field(self, node: FieldNode, parent: GraphQLNamedType | None) -> Measure:
        name = node.name.value
        definition = _field_definition(parent, name)
        inner = EMPTY
        if node.selection_set is not None:
            child = get_named_type(definition.type) if definition else None
            inner = self.selection_set(node.selection_set, child)
        unwraps_type = name == "ofType" and (parent is None or parent.name == "__Type")
        return Measure(
            depth=inner.depth + (0 if unwraps_type else 1),
            aliases=inner.aliases + (1 if node.alias else 0),
            cost=min(1 + self.list_size(node, definition) * inner.cost, CEILING),
        )

    def list_size(self, node: FieldNode, definition: GraphQLField | None) -> int:
        """How many times the field's selections are resolved, as far as the request says."""
        if definition is None:
            return 1
        if "first" in definition.args or "last" in definition.args:
            sizes = [
                value
                for argument in node.arguments or ()
                if argument.name.value in ("first", "last")
                and _is_int(value := value_from_ast_untyped(argument.value, self.variables))
            ]
            return _page_size(max(sizes, default=DEFAULT_PAGE_SIZE))
        if is_list_type(get_nullable_type(definition.type)):
            lengths = [
                len(value)
                for argument in node.arguments or ()
                if isinstance(value := value_from_ast_untyped(argument.value, self.variables), list)
            ]
            if lengths:
                return _page_size(max(lengths))
        return 1


def _shown(count: int) -> str:
    return f"over {CEILING}" if count >= CEILING else str(count)


def _page_size(size: int) -> int:
    # At least 1: a connection's totalCount and pageInfo resolve even for an empty page.
    return min(max(size, 1), MAX_PAGE_SIZE)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _field_definition(parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    if name in _META_FIELDS:
        return _META_FIELDS[name]
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        field_map: GraphQLFieldMap = parent.fields  # a cached property, untyped in graphql-core
        return field_map.get(name)
    return None  # unions have no fields of their own; unknown names are reported elsewhere


def _variables_for(operation: OperationDefinitionNode, given: Mapping[str, Any]) -> dict[str, Any]:
    """The request's variables over the operation's defaults."""
    values: dict[str, Any] = {}
    for definition in operation.variable_definitions or ():
        if definition.default_value is not None:
            values[definition.variable.name.value] = value_from_ast_untyped(
                definition.default_value
            )
    values.update(given)
    return values


def check_document(
    schema: GraphQLSchema,
    document: DocumentNode,
    limits: QueryLimits,
    variables: Mapping[str, Any],
) -> Iterator[GraphQLError]:
    """The refusals a document earns for depth, aliases and cost (none: within limits)."""
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    operations = [
        definition
        for definition in document.definitions
        if isinstance(definition, OperationDefinitionNode)
    ]
    depth = aliases = cost = 0
    try:
        for operation in operations:
            measurer = OperationMeasurer(schema, fragments, _variables_for(operation, variables))
            measure = measurer.operation(operation)
            depth = max(depth, measure.depth)
            aliases = min(aliases + measure.aliases, CEILING)
            cost = max(cost, measure.cost)
    except RecursionError:
        # Only a document nested hundreds of levels deep gets here.
        yield refusal("The query is nested too deeply", QUERY_TOO_DEEP)
        return
    if depth > limits.max_query_depth:
        yield refusal(
            f"The query is nested {depth} levels deep; at most {limits.max_query_depth} "
            "are allowed",
            QUERY_TOO_DEEP,
        )
    if aliases > limits.max_aliases:
        yield refusal(
            f"The document uses {_shown(aliases)} aliases; at most {limits.max_aliases} "
            "are allowed",
            TOO_MANY_ALIASES,
        )
    if cost > limits.max_query_cost:
        yield refusal(
            f"The query would cost {_shown(cost)} units; at most {limits.max_query_cost} are "
            "allowed (each field costs 1, times the page size, first/last or 20, of "
            "every list it is inside): ask for smaller pages or fewer fields",
            QUERY_TOO_COMPLEX,
        )


class NoIntrospectionRule(ValidationRule):
    """Refuse ``__schema`` and ``__type``, once per document."""

    refused = False

    def enter_field(self, node: FieldNode, *_args: object) -> None:
        if not self.refused and node.name.value in ("__schema", "__type"):
            self.refused = True
            self.report_error(
                refusal("Introspection is disabled on this server", INTROSPECTION_DISABLED, node)
            )


# Documents kept parsed (the same bound as the valid documents kept).
MAX_PARSED = 1000
_parsed = functools.lru_cache(maxsize=MAX_PARSED)(parse)


class QueryLimitsExtension(SchemaExtension):
    """Puts the limits on every operation: a token cap while parsing, the rest before
    validation, so a refused document never reaches graphql-core's costlier rules."""

    def __init__(self, limits: QueryLimits, within: "Bounded[bool] | None" = None) -> None:
        self.limits = limits
        # Documents (by text, operation and variables) found within the limits before: a
        # site's frontends repeat them, and measuring one costs as much as answering it.
        self.within = within if within is not None else Bounded(0)

    def on_operation(self) -> Iterator[None]:
        execution = self.execution_context
        execution.parse_options["max_tokens"] = self.limits.max_tokens
        if not self.limits.introspection:
            execution.validation_rules = (*execution.validation_rules, NoIntrospectionRule)
        yield

    def on_parse(self) -> Iterator[None]:
        execution = self.execution_context
        if execution.graphql_document is None and execution.query is not None:
            # A site's frontends send the same few documents: each is parsed once. One that
            # does not parse is not kept; Strawberry parses it again and reports the error.
            with contextlib.suppress(GraphQLError):
                execution.graphql_document = _parsed(execution.query, **execution.parse_options)
        yield
        for error in self.execution_context.pre_execution_errors or ():
            if isinstance(error, GraphQLSyntaxError) and _TOKEN_LIMIT_MESSAGE in error.message:
                error.message = (
                    f"The document has more than {self.limits.max_tokens} tokens "
                    "(names, punctuation, values, comments); send a smaller one"
                )
                error.locations = None  # where the parser gave up tells the client nothing
                error.extensions = {**(error.extensions or {}), "code": TOO_MANY_TOKENS}

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        if execution.pre_execution_errors is None and execution.graphql_document is not None:
            key = (execution.query, execution.operation_name, frozen_key(execution.variables))
            if not self.within.get(key):
                # Errors set here stand in for validation (Strawberry then skips it), the way
                # Strawberry's own ValidationCache does.
                refusals = list(
                    check_document(
                        graphql_schema(execution.schema),
                        execution.graphql_document,
                        self.limits,
                        execution.variables or {},
                    )
                )
                if refusals:
                    execution.pre_execution_errors = refusals
                elif execution.query is not None:
                    self.within.put(key, True)
        yield


def batching_config(limits: QueryLimits) -> BatchingConfig | None:
    """Strawberry's batching setting: off (None) unless a batch size is allowed."""
    if limits.max_batch_size == 0:
        return None
    return BatchingConfig(max_operations=limits.max_batch_size)
