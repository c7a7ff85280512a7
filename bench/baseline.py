"""The limit baseline: each benchmark query answered by ONE hand-written SQL statement.

A minimal Starlette + asyncpg app, served by uvicorn with one worker like ``vestnik serve``.
PostgreSQL builds the whole response, ``{"data": {...}}`` in the shape our GraphQL API gives
for the documents in ``bench/queries``, and the endpoint hands the text through. The one
exception is the offices page: phone numbers are formatted by libphonenumber (national format
and tel: URI), which SQL cannot do, so that response is decoded, completed and encoded again
with orjson (the formatting is memoised, as any hand-tuned endpoint would).

GET ``/<query name>?variables=<JSON>`` mirrors a GraphQL GET with variables; there is no
parsing, validation or planning beyond the ``variables`` JSON.

    python -m bench.baseline --dsn postgresql://postgres@127.0.0.1:5432/db --port 8001
"""

import argparse
import contextlib
import functools
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import orjson
import phonenumbers
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

VISIBLE = "status = 'published' AND published_at <= now()"


def _ts(column: str) -> str:
    """A timestamptz as Python's ``datetime.isoformat()`` writes a UTC instant."""
    return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"')"""


def _authors(article: str, fields: str) -> str:
    return f"""(SELECT coalesce(json_agg(json_build_object({fields})
                    ORDER BY aa.position, au.id), '[]'::json)
             FROM article_author aa JOIN author au ON au.id = aa.author_id
             WHERE aa.article_id = {article})"""


def _tags(article: str) -> str:
    return f"""(SELECT coalesce(json_agg(json_build_object('name', t.name, 'slug', t.slug)
                    ORDER BY t.name, t.id), '[]'::json)
             FROM article_tag at JOIN tag t ON t.id = at.tag_id
             WHERE at.article_id = {article})"""


def _data(field: str, value: str) -> str:
    return f"json_build_object('data', json_build_object('{field}', {value}))::text"


LIST_PAGE = f"""
SELECT {
    _data(
        "articles",
        f'''json_build_object('nodes', coalesce(json_agg(json_build_object(
            'title', a.title, 'slug', a.slug, 'lead', a.lead,
            'publishedAt', {_ts("a.published_at")},
            'authors', {_authors("a.id", "'name', au.name")}
        ) ORDER BY a.published_at DESC, a.id DESC), '[]'::json))''',
    )
}
FROM (SELECT id, title, slug, lead, published_at FROM article WHERE {VISIBLE}
      ORDER BY published_at DESC, id DESC LIMIT 20) a
"""

# An editor's list: every article, drafts (no publishedAt) first as the API orders them. The
# baseline checks no token: authenticating is part of what the API's answer costs.
EDITOR_LIST_PAGE = (
    LIST_PAGE.replace(f" WHERE {VISIBLE}", "")
    .replace("ORDER BY a.published_at DESC,", "ORDER BY a.published_at DESC NULLS FIRST,")
    .replace("ORDER BY published_at DESC,", "ORDER BY published_at DESC NULLS FIRST,")
)

ARTICLE_BY_SLUG = f"""
SELECT {
    _data(
        "article",
        f'''(SELECT json_build_object(
            'title', a.title, 'lead', a.lead, 'bodyHtml', a.body_html,
            'language', upper(a.language), 'publishedAt', {_ts("a.published_at")},
            'updatedAt', {_ts("a.updated_at")}, 'sourceName', a.source_name,
            'sourceUrl', a.source_url,
            'authors', {_authors("a.id", "'name', au.name, 'slug', au.slug, 'bio', au.bio")},
            'tags', {_tags("a.id")})
          FROM article a WHERE a.slug = $1 AND {VISIBLE} ORDER BY a.id LIMIT 1)''',
    )
}
"""

SEARCH = f"""
SELECT {
    _data(
        "articles",
        f'''json_build_object('nodes', coalesce(json_agg(json_build_object(
            'title', a.title, 'slug', a.slug, 'lead', a.lead,
            'publishedAt', {_ts("a.published_at")}
        ) ORDER BY a.published_at DESC, a.id DESC), '[]'::json))''',
    )
}
FROM (SELECT id, title, slug, lead, published_at FROM article
      WHERE {VISIBLE} AND search_vector @@ plainto_tsquery('simple', $1)
      ORDER BY published_at DESC, id DESC LIMIT 20) a
"""

DEEP = f"""
SELECT {
    _data(
        "authors",
        f'''json_build_object('nodes', coalesce(json_agg(json_build_object(
            'name', au.name, 'slug', au.slug,
            'articles', json_build_object('nodes', (
                SELECT coalesce(json_agg(json_build_object(
                    'title', a.title, 'slug', a.slug, 'publishedAt', {_ts("a.published_at")},
                    'tags', {_tags("a.id")}
                ) ORDER BY a.published_at DESC, a.id DESC), '[]'::json)
                FROM (SELECT a.id, a.title, a.slug, a.published_at
                      FROM article a JOIN article_author aa ON aa.article_id = a.id
                      WHERE aa.author_id = au.id AND a.{VISIBLE.replace(" AND ", " AND a.")}
                      ORDER BY a.published_at DESC, a.id DESC LIMIT 10) a))
        ) ORDER BY au.name, au.id), '[]'::json))''',
    )
}
FROM (SELECT id, name, slug FROM author ORDER BY name, id LIMIT 20) au
"""

# Phones carry their E.164 number under "e164"; the endpoint replaces it with display and uri.
WEEKDAYS = "ARRAY['MONDAY','TUESDAY','WEDNESDAY','THURSDAY','FRIDAY','SATURDAY','SUNDAY']"
OFFICES = f"""
SELECT {
    _data(
        "offices",
        f'''json_build_object('nodes', coalesce(json_agg(json_build_object(
            'slug', o.slug, 'name', o.name,
            'address', json_build_object('formatted', concat_ws(', ', nullif(o.postal_code, ''),
                nullif(o.region, ''), nullif(o.locality, ''), nullif(o.street, ''))),
            'phones', (SELECT coalesce(json_agg(json_build_object(
                    'kind', upper(p.kind), 'label', p.label, 'e164', p.number)
                    ORDER BY p.position, p.id), '[]'::json)
                FROM office_phone p WHERE p.office_id = o.id),
            'hours', (SELECT coalesce(json_agg(json_build_object(
                    'weekday', ({WEEKDAYS})[h.weekday], 'opens', h.opens::text,
                    'closes', h.closes::text,
                    'breaks', (SELECT coalesce(json_agg(json_build_object(
                            'start', (b->>'start')::time::text, 'end', (b->>'end')::time::text,
                            'label', b->'label')), '[]'::json)
                        FROM json_array_elements(h.breaks) b))
                    ORDER BY h.weekday), '[]'::json)
                FROM office_hours h WHERE h.office_id = o.id),
            'isOpen', coalesce((
                SELECT d.opens <= o.local::time AND o.local::time < d.closes
                    AND NOT EXISTS (SELECT 1 FROM json_array_elements(d.breaks) b
                        WHERE (b->>'start')::time <= o.local::time
                          AND o.local::time < (b->>'end')::time)
                FROM (SELECT CASE WHEN e.closed THEN NULL ELSE e.opens END AS opens, e.closes,
                             e.breaks, 0 AS rank
                      FROM office_exception e
                      WHERE e.office_id = o.id AND e.day = o.local::date
                      UNION ALL
                      SELECT h.opens, h.closes, h.breaks, 1 FROM office_hours h
                      WHERE h.office_id = o.id AND h.weekday = extract(isodow FROM o.local)
                      ORDER BY rank LIMIT 1) d), false)
        ) ORDER BY o.name, o.id), '[]'::json))''',
    )
}
FROM (SELECT *, now() AT TIME ZONE timezone AS local FROM office ORDER BY name, id LIMIT 30) o
"""

QUERIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "list_page": (LIST_PAGE, ()),
    "article_by_slug": (ARTICLE_BY_SLUG, ("slug",)),
    "offices": (OFFICES, ()),
    "search": (SEARCH, ("q",)),
    "deep": (DEEP, ()),
    "editor_list_page": (EDITOR_LIST_PAGE, ()),
}


@functools.lru_cache(maxsize=4096)
def _phone_formats(e164: str) -> tuple[str, str]:
    number = phonenumbers.parse(e164)
    return (
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL),
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.RFC3966),
    )


def _format_phones(text: str) -> bytes:
    payload = orjson.loads(text)
    for office in payload["data"]["offices"]["nodes"]:
        for phone in office["phones"]:
            phone["display"], phone["uri"] = _phone_formats(phone.pop("e164"))
    return orjson.dumps(payload)


async def respond(pool: asyncpg.Pool, name: str, variables: dict[str, Any]) -> bytes:
    """The response body for one query: one statement, JSON built by PostgreSQL."""
    sql, parameters = QUERIES[name]
    text: str = await pool.fetchval(sql, *(variables[p] for p in parameters))
    return _format_phones(text) if name == "offices" else text.encode()


async def _keep_session(connection: asyncpg.Connection) -> None:
    """No reset query when a connection goes back to the pool: nothing here changes a session."""


def create_app(dsn: str, pool_size: int = 10) -> Starlette:
    pool: asyncpg.Pool | None = None

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        nonlocal pool
        pool = await asyncpg.create_pool(
            dsn, min_size=pool_size, max_size=pool_size, reset=_keep_session
        )
        try:
            yield
        finally:
            await pool.close()

    def endpoint(name: str) -> Any:
        async def answer(request: Request) -> Response:
            assert pool is not None
            variables = orjson.loads(request.query_params.get("variables") or "{}")
            body = await respond(pool, name, variables)
            return Response(body, media_type="application/json")

        return answer

    routes = [Route(f"/{name}", endpoint(name)) for name in QUERIES]
    return Starlette(routes=routes, lifespan=lifespan)


def main() -> None:
    parser = argparse.ArgumentParser(description="The benchmark's limit baseline.")
    parser.add_argument("--dsn", required=True, help="postgresql://...")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args()
    uvicorn.run(
        create_app(args.dsn), host=args.host, port=args.port, log_level="warning", access_log=False
    )


if __name__ == "__main__":
    main()
