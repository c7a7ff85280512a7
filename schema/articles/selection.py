"""What a query selects of its articles: the columns to read and the related rows to prefetch.

Read from Strawberry's ``info.selected_fields``, which already expands fragment spreads and
inline fragments; aliases do not matter (a field is known by its name). Directives
(``@skip``/``@include``) are ignored, so a skipped field is still read: the selection may be
larger than needed, never smaller. A field this module does not know makes the read take
every column: a wasted read is acceptable, a wrong answer is not.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from strawberry.types.nodes import SelectedField, Selection

from models.services.articles import ARTICLE_COLUMNS


@dataclass(frozen=True)
class ArticleSelection:
    """Plain data for the services: columns to read, and which related rows to fetch with them."""

    columns: frozenset[str] | None
    """Columns besides the primary key (always read); ``None``: every column."""
    authors: bool = False
    tags: bool = False


EVERY_COLUMN = ArticleSelection(columns=None)

_JSON_LD = frozenset(
    {"title", "lead", "language", "published_at", "updated_at", "source_name", "source_url"}
)

FIELD_COLUMNS: dict[str, frozenset[str]] = {
    "__typename": frozenset(),
    "id": frozenset(),
    "slug": frozenset({"slug"}),
    "title": frozenset({"title"}),
    "lead": frozenset({"lead"}),
    "body": frozenset({"body"}),
    "bodyHtml": frozenset({"body_html"}),
    "status": frozenset({"status"}),
    "language": frozenset({"language"}),
    "publishedAt": frozenset({"published_at"}),
    "createdAt": frozenset({"created_at"}),
    "updatedAt": frozenset({"updated_at"}),
    "version": frozenset({"version"}),
    "sourceName": frozenset({"source_name"}),
    "sourceUrl": frozenset({"source_url"}),
    "readingTimeMinutes": frozenset({"lead", "body"}),
    "authors": frozenset(),
    "tags": frozenset(),
    "corrections": frozenset(),
    "revisions": frozenset(),
    "translations": frozenset({"translation_group"}),
    "jsonLd": _JSON_LD,
}
"""Each field of the ``Article`` type and the columns its value comes from.

A test checks that every field of the type is here and every column named is a real one.
"""

assert all(columns <= ARTICLE_COLUMNS for columns in FIELD_COLUMNS.values())

_NEEDS_AUTHORS = frozenset({"authors", "jsonLd"})
_NEEDS_TAGS = frozenset({"tags"})


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
    known = True
    authors = tags = False
    for field in fields_of(article):
        needed = FIELD_COLUMNS.get(field.name)
        if needed is None:
            known = False
        else:
            columns |= needed
        authors = authors or field.name in _NEEDS_AUTHORS
        tags = tags or field.name in _NEEDS_TAGS
    return ArticleSelection(
        columns=frozenset(columns) if known else None, authors=authors, tags=tags
    )


def article_selection_of(field: Iterable[Selection]) -> ArticleSelection:
    """For a field returning an ``Article`` (pass ``info.selected_fields``)."""
    return article_selection(children_of(field))


def connection_selection_of(field: Iterable[Selection]) -> ArticleSelection:
    """For a field returning a connection of articles (pass ``info.selected_fields``)."""
    return article_selection(nodes_of(children_of(field)))
