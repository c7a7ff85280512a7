"""An article read with its byline and tags in the same row, as JSON arrays (PostgreSQL).

The compiled query path (``schema/compiled``) answers a page with one statement: each
row carries, besides the article's columns, ``authors`` and ``tags`` columns holding JSON
arrays of ``[column, ...]`` arrays, in ``BYLINE_ORDER`` and ``TAG_ORDER``, as every
other read of them. Only columns whose JSON form reads back as the same Python
value (numbers and text, no timestamps) may be asked for.
"""

import functools
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.sql import Select

from models.article import Article, ArticleAuthor, ArticleTag
from models.author import Author
from models.db import table_of
from models.services.article_loaders import BYLINE_ORDER, TAG_ORDER
from models.tag import Tag

AUTHOR_JSON_COLUMNS = frozenset({"id", "slug", "name", "bio", "avatar_url"})
TAG_JSON_COLUMNS = frozenset({"id", "slug", "name"})

_ARTICLE = table_of(Article)
_AUTHOR = table_of(Author)
_TAG = table_of(Tag)
_BYLINE = table_of(ArticleAuthor)
_TAGGED = table_of(ArticleTag)


def with_related(
    stmt: Select[Any],
    *,
    authors: Sequence[str] | None = None,
    tags: Sequence[str] | None = None,
) -> Select[Any]:
    """``stmt`` (a read of article columns) plus ``authors`` and/or ``tags`` JSON columns."""
    if authors is not None:
        stmt = stmt.add_columns(_byline(tuple(authors)))
    if tags is not None:
        stmt = stmt.add_columns(_tags(tuple(tags)))
    return stmt


# The subqueries depend only on the columns asked for: built once each, not per request.
@functools.cache
def _byline(columns: tuple[str, ...]) -> Any:
    _check(columns, AUTHOR_JSON_COLUMNS, "author")
    return _per_article(_AUTHOR, columns, BYLINE_ORDER, _BYLINE, _BYLINE.c.author_id, "authors")


@functools.cache
def _tags(columns: tuple[str, ...]) -> Any:
    _check(columns, TAG_JSON_COLUMNS, "tag")
    return _per_article(_TAG, columns, TAG_ORDER, _TAGGED, _TAGGED.c.tag_id, "tags")


def _per_article(
    table: sa.Table,
    columns: Sequence[str],
    order: Sequence[Any],
    link: sa.Table,
    link_key: Any,
    label: str,
) -> Any:
    """The JSON list of ``table`` rows linked to the outer query's article."""
    return (
        sa.select(_json_list(table, columns, *order))
        .select_from(link.join(table, table.c.id == link_key))
        .where(link.c.article_id == _ARTICLE.c.id)
        .scalar_subquery()
        .label(label)
    )


def _json_list(table: sa.Table, columns: Sequence[str], *order: Any) -> Any:
    """``coalesce(json_agg(json_build_array(columns...) ORDER BY order), '[]')``."""
    item = sa.func.json_build_array(*(table.c[name] for name in columns))
    aggregated = sa.func.json_agg(aggregate_order_by(item, *order))
    return sa.func.coalesce(aggregated, sa.literal_column("'[]'::json"))


def _check(columns: Sequence[str], allowed: frozenset[str], what: str) -> None:
    unknown = set(columns) - allowed
    if unknown:
        raise ValueError(f"not readable as JSON {what} columns: {sorted(unknown)}")
