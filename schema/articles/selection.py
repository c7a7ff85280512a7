"""What a query selects of its articles: the columns to read and the related rows to prefetch.

Read from Strawberry's ``info.selected_fields``, which already expands fragment spreads and
inline fragments; aliases do not matter (a field is known by its name). Directives
(``@skip``/``@include``) are ignored, so a skipped field is still read: the selection may be
larger than needed, never smaller. The columns and relations of each field are the
``Article`` declaration's (``schema/articles/types.py``); a field it does not know makes the
read take every column: a wasted read is acceptable, a wrong answer is not.
"""

import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

from strawberry.types.nodes import SelectedField, Selection

from schema.sources import Declaration, declaration


@dataclass(frozen=True)
class ArticleSelection:
    """Plain data for the services: columns to read, and which related rows to fetch with them."""

    columns: frozenset[str] | None
    """Columns besides the primary key (always read); ``None``: every column."""
    authors: bool = False
    tags: bool = False


EVERY_COLUMN = ArticleSelection(columns=None)

PREFETCHED = frozenset({"authors", "tags"})
"""The relations an article read fetches with its rows (``ArticleSelection``'s)."""


def selection_for(columns: Iterable[str], relations: Iterable[str]) -> ArticleSelection:
    """What to read of articles whose fields read ``columns`` and ``relations``."""
    related = frozenset(relations)
    return ArticleSelection(
        columns=frozenset(columns), authors="authors" in related, tags="tags" in related
    )


@functools.cache
def _article() -> Declaration:
    # Looked up when first needed: the types module that declares it imports this one.
    return declaration("Article")


def fields_of(selections: Iterable[Selection]) -> Iterator[SelectedField]:
    """The fields of a selection set, with fragment spreads and inline fragments flattened.

    Type conditions are ignored: every fragment's fields count, a superset of what runs.
    """
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        else:
            yield from fields_of(selection.selections)


def children_of(selections: Iterable[Selection]) -> Iterator[Selection]:
    """What is selected inside the given fields (e.g. ``info.selected_fields``)."""
    for field in fields_of(selections):
        yield from field.selections


def nodes_of(connection: Iterable[Selection]) -> Iterator[Selection]:
    """What a connection's selection asks of each node: ``nodes { ... }`` and ``edges { node }``."""
    for field in fields_of(connection):
        if field.name == "nodes":
            yield from field.selections
        elif field.name == "edges":
            for edge_field in fields_of(field.selections):
                if edge_field.name == "node":
                    yield from edge_field.selections


def article_selection(article: Iterable[Selection]) -> ArticleSelection:
    """Columns and related rows for the fields selected on an ``Article``."""
    columns: set[str] = set()
    relations: set[str] = set()
    known = True
    declared = _article()
    for field in fields_of(article):
        needed = declared.columns_of(field.name)
        if needed is None:
            known = False
        else:
            columns |= needed
        relations |= declared.relations_of(field.name)
    selected = selection_for(columns, relations)
    return selected if known else replace(selected, columns=None)


def article_selection_of(field: Iterable[Selection]) -> ArticleSelection:
    """For a field returning an ``Article`` (pass ``info.selected_fields``)."""
    return article_selection(children_of(field))


def connection_selection_of(field: Iterable[Selection]) -> ArticleSelection:
    """For a field returning a connection of articles (pass ``info.selected_fields``)."""
    return article_selection(nodes_of(children_of(field)))
