"""Keyset (cursor) pagination, done in SQL.

A cursor is the sort-key values of the row it points at, so the next page is a
``WHERE (k1, k2, id) > (...)`` condition on indexed columns, never an OFFSET or
a slice of a list in memory. NULL sorts as the largest value (PostgreSQL's
default), so an index scan serves both directions.
"""

import base64
import binascii
import functools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Generic, Literal, TypeVar

import orjson
import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement, Select
from sqlmodel import SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.columns import is_storable
from models.errors import InvalidInput
from models.global_ids import MAX_ROW_ID

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_CURSOR_STRING = 1000
# A parent with at most this many rows gets its page by sorting them all (see _lateral_pages).
# Measured on the 1M-article benchmark database, warm: ~6 us a row that way, so at most
# ~12 ms; a parent just above it costs about as much the other way (~2 us per row walked).
SPARSE_PARENT_ROWS = 2000

T = TypeVar("T")
S = TypeVar("S", bound=Select[Any])
Kind = Literal["datetime", "str", "int"]


@dataclass(frozen=True)
class OrderKey:
    attr: str
    column: Any
    descending: bool = False
    kind: Kind = "int"
    nullable: bool = False


@dataclass(frozen=True)
class Ordering:
    """A named total order; its last key must be unique (the primary key)."""

    name: str
    keys: tuple[OrderKey, ...]


@dataclass(frozen=True)
class PageArgs:
    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    """Some rows in display order. Their cursors are encoded when asked for: most pages
    are read without one (an authors overview's 200 articles, every office list)."""

    items: list[T]
    ordering: Ordering
    has_next: bool
    has_previous: bool

    def cursor(self, item: T) -> str:
        return encode_cursor(self.ordering, item)

    @functools.cached_property
    def cursors(self) -> list[str]:
        return [self.cursor(item) for item in self.items]

    @property
    def start_cursor(self) -> str | None:
        return self.cursor(self.items[0]) if self.items else None

    @property
    def end_cursor(self) -> str | None:
        return self.cursor(self.items[-1]) if self.items else None


@dataclass(frozen=True)
class Window:
    """A validated page request: how many rows, which way, between which cursors."""

    limit: int
    backwards: bool
    after: tuple[Any, ...] | None
    before: tuple[Any, ...] | None


def check_page_args(args: PageArgs, ordering: Ordering) -> Window:
    """Validate Relay arguments: ``first``/``after`` page forwards, ``last``/``before`` back.

    Both cursors may be given (the rows between them); ``before`` alone means the rows
    just before it.
    """
    if args.first is not None and args.last is not None:
        raise InvalidInput("Pass either first or last, not both", field="last")
    for name in ("first", "last"):
        value = getattr(args, name)
        if value is not None and not 0 <= value <= MAX_PAGE_SIZE:
            raise InvalidInput(f"{name} must be between 0 and {MAX_PAGE_SIZE}", field=name)
    backwards = args.last is not None or (
        args.before is not None and args.first is None and args.after is None
    )
    size = args.last if backwards else args.first
    return Window(
        limit=DEFAULT_PAGE_SIZE if size is None else size,
        backwards=backwards,
        after=decode_cursor(args.after, ordering, "after") if args.after is not None else None,
        before=decode_cursor(args.before, ordering, "before") if args.before is not None else None,
    )


def encode_cursor(ordering: Ordering, row: Any) -> str:
    values = []
    for key in ordering.keys:
        value = getattr(row, key.attr)
        values.append(value.isoformat() if isinstance(value, datetime) else value)
    payload = orjson.dumps({"o": ordering.name, "v": values})
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def decode_cursor(raw: str, ordering: Ordering, field: str) -> tuple[Any, ...]:
    error = InvalidInput(f"Invalid cursor for '{field}'", field=field)
    try:
        data = orjson.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise error from None
    if not isinstance(data, dict) or data.get("o") != ordering.name:
        raise error
    values = data.get("v")
    if not isinstance(values, list) or len(values) != len(ordering.keys):
        raise error
    return tuple(
        _decode_value(value, key, error) for value, key in zip(values, ordering.keys, strict=True)
    )


def _decode_value(value: Any, key: OrderKey, error: InvalidInput) -> Any:
    if value is None:
        if key.nullable:
            return None
        raise error
    if key.kind == "int" and type(value) is int and 0 < value <= MAX_ROW_ID:
        return value
    if (
        key.kind == "str"
        and isinstance(value, str)
        and len(value) <= MAX_CURSOR_STRING
        and is_storable(value)
    ):
        return value
    if key.kind == "datetime" and isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise error from None
        if parsed.tzinfo is not None:
            try:
                return parsed.astimezone(UTC)  # as it is stored and compared
            except OverflowError:  # e.g. year 1 at +01:00: before the first storable instant
                raise error from None
    raise error


def _beyond(key: OrderKey, value: Any, descending: bool) -> ColumnElement[bool]:
    """Rows strictly after ``value`` on this key, walking in ``descending`` order."""
    column: ColumnElement[Any] = key.column
    if value is None:  # NULL is the largest value
        return column.is_not(None) if descending else sa.false()
    if descending:
        below: ColumnElement[bool] = column < value
        return below
    return sa.or_(column > value, column.is_(None)) if key.nullable else column > value


def _equal(key: OrderKey, value: Any) -> ColumnElement[bool]:
    column: ColumnElement[Any] = key.column
    return column.is_(None) if value is None else column == value


def _beyond_cursor(
    ordering: Ordering, cursor: tuple[Any, ...], backwards: bool
) -> ColumnElement[bool]:
    """Rows strictly after ``cursor`` when walking the ordering (or its reverse).

    When the keys all run one way, this is one row-value comparison, ``(k1, id) < (v1, v2)``:
    both databases turn it into a range on the index, so a deep page reads no more rows than
    the first. Otherwise (mixed directions, a NULL in the cursor, or an upward walk that must
    also pass the NULLs sorted last) it is spelled out key by key.
    """
    walks_down = {key.descending != backwards for key in ordering.keys}
    if len(walks_down) == 1 and None not in cursor:
        descending = walks_down.pop()
        if descending or not any(key.nullable for key in ordering.keys):
            row = sa.tuple_(*(key.column for key in ordering.keys))
            beyond: ColumnElement[bool] = row < cursor if descending else row > cursor
            return beyond
    alternatives = []
    for i, key in enumerate(ordering.keys):
        prefix = [_equal(k, v) for k, v in zip(ordering.keys[:i], cursor[:i], strict=True)]
        descending = key.descending != backwards
        alternatives.append(sa.and_(*prefix, _beyond(key, cursor[i], descending)))
    return sa.or_(*alternatives)


def keyset_condition(ordering: Ordering, window: Window) -> ColumnElement[bool] | None:
    conditions = []
    if window.after is not None:
        conditions.append(_beyond_cursor(ordering, window.after, backwards=False))
    if window.before is not None:
        conditions.append(_beyond_cursor(ordering, window.before, backwards=True))
    return sa.and_(*conditions) if conditions else None


def order_clauses(ordering: Ordering, backwards: bool) -> list[Any]:
    clauses = []
    for key in ordering.keys:
        if key.descending != backwards:
            clause = key.column.desc()
            clauses.append(clause.nulls_first() if key.nullable else clause)
        else:
            clause = key.column.asc()
            clauses.append(clause.nulls_last() if key.nullable else clause)
    return clauses


def paginate(stmt: S, ordering: Ordering, window: Window) -> S:
    """Add the cursor condition, the order and a limit of one extra row to ``stmt``."""
    condition = keyset_condition(ordering, window)
    if condition is not None:
        stmt = stmt.where(condition)
    return stmt.order_by(*order_clauses(ordering, window.backwards)).limit(window.limit + 1)


def make_page(rows: Sequence[T], ordering: Ordering, window: Window) -> Page[T]:
    """Turn the rows fetched by ``paginate`` (one extra) into a page in display order."""
    more = len(rows) > window.limit
    items = list(rows[: window.limit])
    if window.backwards:
        items.reverse()
        has_next, has_previous = window.before is not None, more or window.after is not None
    else:
        has_next, has_previous = more or window.before is not None, window.after is not None
    return Page(items=items, ordering=ordering, has_next=has_next, has_previous=has_previous)


PARENT_IDS = "vestnik_parent_ids"
"""The parameter a per-parent page statement takes the parents' distinct ids by."""


def paginate_per_parent(
    stmt: Select[Any],
    entity: Any,
    parent_column: Any,
    ordering: Ordering,
    window: Window,
    *,
    lateral: bool,
) -> Select[Any]:
    """One page per parent (e.g. each author's latest articles) in a single query.

    ``stmt`` selects ``entity`` (or, when ``entity`` is ``None``, plain columns) joined to
    ``parent_column``, not yet limited to the parents. Rows come out as
    ``(entity, parent_id)``, or as the plain columns followed by ``parent_id``; grouped by
    parent and in page order within each.

    ``lateral`` (PostgreSQL): a ``LATERAL`` subquery per parent, each an ordinary keyset page
    with its own ``LIMIT``, so a parent with thousands of rows costs about as much as one page.
    Otherwise (SQLite has no ``LATERAL``) a window function numbers every row of every parent
    and keeps the first ``limit + 1`` of each: it reads and sorts them all.

    The parents' ids are the parameter ``PARENT_IDS`` (distinct ids, given at execution),
    so one statement serves any parents and can be built once and run again.
    """
    if lateral:
        return _lateral_pages(stmt, entity, parent_column, ordering, window)
    number = (
        sa.func.row_number()
        .over(partition_by=parent_column, order_by=order_clauses(ordering, window.backwards))
        .label("row_number")
    )
    inner = stmt.add_columns(parent_column.label("parent_id"), number)
    inner = inner.where(parent_column.in_(sa.bindparam(PARENT_IDS, expanding=True)))
    condition = keyset_condition(ordering, window)
    if condition is not None:
        inner = inner.where(condition)
    subquery = inner.subquery()
    if entity is None:
        selected: list[Any] = [c for c in subquery.c if c.key != "row_number"]
    else:
        selected = [aliased(entity, subquery), subquery.c.parent_id]
    return (
        sa.select(*selected)
        .where(subquery.c.row_number <= window.limit + 1)
        .order_by(subquery.c.parent_id, subquery.c.row_number)
    )


def _lateral_pages(
    stmt: Select[Any],
    entity: Any,
    parent_column: Any,
    ordering: Ordering,
    window: Window,
) -> Select[Any]:
    """``FROM unnest(:ids) AS parent(id) JOIN LATERAL (<one parent's page>) AS page ON true``.

    PostgreSQL plans the page once for all parents, for a parent of average size: walk the
    rows in order on an index of the ordering (``published_at``) and probe each one's link
    (``article_author``'s key) until ``limit + 1`` belong to the parent. That reads about
    ``limit * rows / parent's rows``: a few thousand for a busy author, but every row for
    one with none (a new author, an unused tag: seconds on a million articles). So a parent
    with at most ``SPARSE_PARENT_ROWS`` links (counted, up to that, on the link's index)
    gets the other way instead: all its rows, from its links, sorted; at most that many
    reads. Both branches are in the statement; a one-time filter runs only one per parent.

    The ids go as one array parameter, so the statement is the same for any number of
    parents. Each parent once: a repeated id would repeat its page.
    """
    ids = sa.bindparam(PARENT_IDS, type_=sa.ARRAY(sa.Integer))
    parents = (
        sa.func.unnest(ids).table_valued(sa.column("id", sa.Integer)).render_derived(name="parent")
    )
    first_links = (
        sa.select(parent_column)
        .where(parent_column == parents.c.id)
        .limit(SPARSE_PARENT_ROWS + 1)
        .correlate(parents)
        .lateral("first_links")
    )
    links = (
        sa.select(sa.func.count().label("rows"))
        .select_from(first_links)
        .correlate(parents)
        .lateral("links")
    )
    one_parent = stmt.add_columns(parent_column.label("parent_id")).where(
        parent_column == parents.c.id
    )
    dense = paginate(one_parent.where(links.c.rows > SPARSE_PARENT_ROWS), ordering, window)
    every_row = one_parent.where(links.c.rows <= SPARSE_PARENT_ROWS)
    condition = keyset_condition(ordering, window)
    if condition is not None:
        every_row = every_row.where(condition)
    # OFFSET 0 keeps PostgreSQL from planning this part with the ORDER BY and LIMIT below,
    # which would make it walk the ordering's index again.
    rows = every_row.offset(0).correlate(parents, links).lateral("sparse_rows")
    sparse = (
        sa.select(*rows.c)
        .order_by(*order_clauses(_on(ordering, rows), window.backwards))
        .limit(window.limit + 1)
    )
    page = sa.union_all(dense, sparse).lateral("page")
    if entity is None:
        selected: list[Any] = list(page.c)
    else:
        selected = [aliased(entity, page), page.c.parent_id]
    return (
        sa.select(*selected)
        .select_from(parents)
        .join(links, sa.true())
        .join(page, sa.true())
        .order_by(page.c.parent_id, *order_clauses(_on(ordering, page), window.backwards))
    )


def _on(ordering: Ordering, subquery: Any) -> Ordering:
    """``ordering`` on the same-named columns of ``subquery``: to keep its rows in order."""
    keys = tuple(replace(key, column=subquery.c[key.column.key]) for key in ordering.keys)
    return Ordering(ordering.name, keys)


def pages_by_parent(
    rows: Sequence[Any],
    parent_ids: Sequence[int],
    ordering: Ordering,
    window: Window,
    *,
    flat: bool = False,
) -> list[Page[Any]]:
    """Split ``paginate_per_parent`` results into one page per parent, in key order.

    ``flat``: the rows are plain columns with a ``parent_id`` (``entity`` was ``None``).
    """
    grouped: dict[int, list[Any]] = {parent_id: [] for parent_id in parent_ids}
    for row in rows:
        item, parent_id = (row, row.parent_id) if flat else row
        grouped[parent_id].append(item)
    return [make_page(grouped[parent_id], ordering, window) for parent_id in parent_ids]


async def count_rows(session: AsyncSession, model: type[SQLModel]) -> int:
    """Every row of ``model``: the ``totalCount`` of an unfiltered listing."""
    return (await session.exec(select(sa.func.count()).select_from(model))).one()
