"""Where each field of a read type gets its value: declared once, next to the type.

A declaration maps every GraphQL field of one type to its source: a column of the row, the
Relay ID, a value computed from columns (by a function every path calls), an object built
from columns, related rows (their order and visibility are those of the loader it names),
or a root field's arguments. The Strawberry types build themselves from it (``values``),
the column projection (``schema/articles/selection.py``) and the compiled planner
(``schema/compiled/plan.py``) read the same declarations, so none of them restates which
column a field is. ``tests/schema/test_sources.py`` fails when a type of the read schema
has a field, or a field an argument, that its declaration does not cover, and the planner
declines any field or argument that is not declared.

Layer: ``schema``; imports nothing of the project, so every type module can use it.
"""

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

# A column's value by its name, from whatever holds the row (an ORM object, a Row, a record).
ColumnOf = Callable[[str], Any]


@dataclass(frozen=True)
class Column:
    """The value of one column, as stored."""

    name: str
    attribute: str | None = None
    """The Strawberry type's attribute holding it, when not named as the column."""
    editors_only: bool = False
    """Null for the public (e.g. an author's e-mail)."""

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.name,)


@dataclass(frozen=True)
class GlobalId:
    """The Relay ID, from the type's name and the primary key (always read)."""

    columns: tuple[str, ...] = ()


class Request(Protocol):
    """What a value may ask of the request: its one instant, to expire early, and whether
    the viewer reads private (``editors_only``) fields."""

    @property
    def now(self) -> datetime: ...

    @property
    def reads_private(self) -> bool: ...

    def expire_at(self, when: datetime | None) -> None: ...


# A derived value from (the row, its related rows, the field's arguments, the request).
Derive = Callable[[Any, Any, Mapping[str, Any], Request], Any]


@dataclass(frozen=True)
class Computed:
    """A value computed from columns, or derived from the row and its related rows.

    With ``function`` the value is ``function(*columns)``. With ``derive`` it is
    ``derive(row, related rows, arguments, request)``: it reads ``relations`` too, takes
    ``arguments`` and may ask the request's instant. The type's resolver and the planner
    both call the same one. With neither, the field's value comes from elsewhere (e.g. a
    connection's count) and the planner declines it unless it knows that field itself.
    """

    columns: tuple[str, ...]
    function: Callable[..., Any] | None = None
    relations: frozenset[str] = frozenset()
    """Related rows it reads too (names of the type's relations)."""
    arguments: frozenset[str] = frozenset()
    attribute: str | None = None
    """Set: computed once when the Strawberry object is built, and kept in this attribute."""
    derive: Derive | None = None

    def value(self, column: ColumnOf) -> Any:
        assert self.function is not None, "computed by the type's resolver only"
        return self.function(*(column(name) for name in self.columns))


@dataclass(frozen=True)
class Nested:
    """An object of type ``target`` made of this row's columns (e.g. an office's address)."""

    target: str
    attribute: str

    @property
    def columns(self) -> tuple[str, ...]:
        return declaration(self.target).all_columns()


@dataclass(frozen=True)
class Relation:
    """Rows of type ``target``, in the order and visibility of the loader ``via`` names (for
    a relation with arguments, a page of them: an attribute of ``schema.loaders.Loaders``,
    which the resolver and the planner both load through)."""

    target: str
    via: str
    columns: tuple[str, ...] = ()
    """The row's own columns the related rows are found by (e.g. its translation group)."""
    arguments: frozenset[str] = frozenset()
    editors_only: bool = False
    counted_by: str | None = None
    """For a page of them: the loader counting a parent's related rows (``totalCount``)."""


@dataclass(frozen=True)
class Root:
    """A root field of ``Query``: the service ``via`` names answers it, with these arguments."""

    via: str
    arguments: frozenset[str] = frozenset()


Source = Column | GlobalId | Computed | Nested | Relation | Root


@dataclass(frozen=True)
class Declaration:
    """Every field of one GraphQL type (``__typename`` is implied) and its source."""

    type_name: str
    fields: Mapping[str, Source]

    def computed(self, name: str) -> Computed:
        source = self.fields[name]
        assert isinstance(source, Computed)
        return source

    def relation(self, name: str) -> Relation:
        source = self.fields[name]
        assert isinstance(source, Relation)
        return source

    def arguments(self, name: str) -> frozenset[str]:
        """The arguments field ``name`` is declared to take."""
        source = self.fields[name]
        return source.arguments if isinstance(source, Computed | Relation | Root) else frozenset()

    def columns_of(self, name: str) -> frozenset[str] | None:
        """The columns field ``name`` reads; ``None``: not a field of this type."""
        if name == "__typename":
            return frozenset()
        source = self.fields.get(name)
        if source is None:
            return None
        if isinstance(source, Root):
            return frozenset()
        return frozenset(source.columns)

    def all_columns(self) -> tuple[str, ...]:
        return tuple(
            dict.fromkeys(
                name
                for source in self.fields.values()
                if not isinstance(source, Root)
                for name in source.columns
            )
        )

    def column_fields(self) -> dict[str, Column]:
        """The fields that are a column's value, by field name."""
        return {name: s for name, s in self.fields.items() if isinstance(s, Column)}

    def relations_of(self, name: str) -> frozenset[str]:
        """The relations field ``name`` reads (itself, when it is one)."""
        source = self.fields.get(name)
        if isinstance(source, Relation):
            return frozenset({name})
        if isinstance(source, Computed):
            return source.relations
        return frozenset()

    # Worked out once per type (every object built reads them): attributes taken from a
    # column, by (attribute, column), and those computed when the object is built.
    @functools.cached_property
    def _column_attributes(self) -> tuple[tuple[str, str], ...]:
        pairs: list[tuple[str, str]] = []
        for source in self.fields.values():
            if isinstance(source, Column):
                pairs.append((source.attribute or source.name, source.name))
            elif isinstance(source, Relation):
                pairs.extend((name, name) for name in source.columns)
        return tuple(pairs)

    @functools.cached_property
    def _computed_attributes(self) -> tuple[tuple[str, Computed], ...]:
        return tuple(
            (s.attribute, s)
            for s in self.fields.values()
            if isinstance(s, Computed) and s.attribute is not None
        )

    @functools.cached_property
    def _attribute_of_column(self) -> dict[str, str]:
        return {column: attribute for attribute, column in self._column_attributes}

    def values(self, column: ColumnOf) -> dict[str, Any]:
        """The Strawberry object's attributes that come from columns, by attribute name.

        Columns a relation is found by are kept under their own names.
        """
        found = {attribute: column(name) for attribute, name in self._column_attributes}
        for attribute, source in self._computed_attributes:
            found[attribute] = source.value(column)
        return found

    def compute(self, name: str, built: object) -> Any:
        """Field ``name``'s computed value, for a Strawberry object built by ``values``."""
        attributes = self._attribute_of_column
        return self.computed(name).value(
            lambda column: getattr(built, attributes.get(column, column))
        )


_DECLARED: dict[str, Declaration] = {}

# Generic types (``Connection[T]``, ``Edge[T]``) are declared once, under the suffix their
# GraphQL names share: ``ArticleConnection`` and ``OfficeConnection`` read ``Connection``'s.
GENERIC_SUFFIXES = ("Connection", "Edge")


def declare(type_name: str, fields: Mapping[str, Source]) -> Declaration:
    """Register the declaration of ``type_name`` (once: a second one is a mistake)."""
    if type_name in _DECLARED:
        raise ValueError(f"{type_name} is declared twice")
    declared = Declaration(type_name, dict(fields))
    _DECLARED[type_name] = declared
    return declared


def declare_roots(fields: Mapping[str, Root]) -> None:
    """Add root fields to ``Query``'s declaration (each domain declares its own)."""
    query = _DECLARED.setdefault("Query", Declaration("Query", {}))
    assert isinstance(query.fields, dict)
    for name, source in fields.items():
        if name in query.fields:
            raise ValueError(f"Query.{name} is declared twice")
        query.fields[name] = source


def declaration(type_name: str) -> Declaration:
    """The declaration of a GraphQL type; ``KeyError`` when it has none."""
    found = _DECLARED.get(type_name)
    if found is not None:
        return found
    for suffix in GENERIC_SUFFIXES:
        if type_name.endswith(suffix) and type_name != suffix:
            return _DECLARED[suffix]
    raise KeyError(type_name)
