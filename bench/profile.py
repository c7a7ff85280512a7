"""Where an uncached request's time goes: cProfile over the app, summed by package.

Runs one benchmark query many times through the real ASGI app (in process, no HTTP
server, response cache off) against a benchmark database, and prints the share of CPU
time spent in each package's own code (graphql-core, strawberry, sqlalchemy, asyncpg,
starlette, vestnik, ...). It answers "why is the uncached path so far from the baseline".

    .venv/bin/python -m bench.profile --articles 10000 --query list_page --requests 500
"""

import argparse
import asyncio
import cProfile
import json
import pstats
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import httpx
import sqlalchemy as sa

from bench.cluster import Cluster
from bench.runner import document
from models.db import make_engine
from server.app import create_app
from server.settings import Settings

CACHE_DIR = Path("/var/tmp/vestnik-bench")
GROUPS = (
    ("graphql", "graphql-core"),
    ("strawberry", "strawberry"),
    ("sqlalchemy", "sqlalchemy"),
    ("sqlmodel", "sqlalchemy"),
    ("asyncpg", "asyncpg"),
    ("starlette", "starlette"),
    ("pydantic", "pydantic"),
    ("orjson", "orjson"),
    ("/work/", "vestnik"),
    ("models/", "vestnik"),
    ("schema/", "vestnik"),
    ("server/", "vestnik"),
    ("asyncio", "asyncio"),
)


def group_of(filename: str) -> str:
    for needle, group in GROUPS:
        if f"/{needle}" in filename or filename.startswith(needle):
            return group
    return "python" if filename.startswith(("~", "<")) else "other"


async def run(
    url: str, query: str, variables: dict[str, object], requests: int, *, compiled: bool = True
) -> float:
    settings = Settings(
        database_url=url,
        migrate_on_start=False,
        seed_on_start=False,
        response_cache=False,
        compiled_queries=compiled,
        rate_limit_per_minute=0,
        metrics=False,
    )
    app = create_app(settings)
    params = {"query": query}
    if variables:
        params["variables"] = json.dumps(variables)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for _ in range(20):  # warm up: connections, caches
                assert "errors" not in (await client.get("/graphql", params=params)).json()
            profile = cProfile.Profile()
            started = time.perf_counter()
            profile.enable()
            for _ in range(requests):
                await client.get("/graphql", params=params)
            profile.disable()
            elapsed = time.perf_counter() - started
    report(profile, requests, elapsed)
    return elapsed


def report(profile: cProfile.Profile, requests: int, elapsed: float) -> None:
    stats = pstats.Stats(profile)
    own: dict[str, float] = defaultdict(float)
    for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        own[group_of(filename)] += tottime
    total = sum(own.values())
    print(f"{requests} requests, {elapsed / requests * 1000:.2f} ms each (wall, profiled)")
    print("| package | share of CPU time (own code) |")
    print("|---|---|")
    for group, seconds in sorted(own.items(), key=lambda item: -item[1]):
        print(f"| {group} | {seconds / total:.0%} |")
    print()
    print("| function (own time, top 12) | share | calls per request |")
    print("|---|---|---|")
    entries = stats.stats.items()  # type: ignore[attr-defined]
    for (filename, line, name), (_cc, calls, own_time, _ct, _callers) in sorted(
        entries, key=lambda item: -item[1][2]
    )[:12]:
        where = filename.split("site-packages/")[-1].split("/work/main/")[-1]
        print(f"| `{name}` ({where}:{line}) | {own_time / total:.1%} | {calls / requests:.1f} |")


async def a_published_slug(url: str) -> str:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            slug = await connection.scalar(
                sa.text("SELECT slug FROM article WHERE status = 'published' ORDER BY id LIMIT 1")
            )
    finally:
        await engine.dispose()
    return str(slug)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--query", default="list_page")
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--slug", help="for article_by_slug: which article")
    parser.add_argument("--search", default="кокюўэ хюгуліс", help="for search: the words")
    parser.add_argument(
        "--no-compiled",
        action="store_true",
        help="profile GraphQL's executor: the compiled query path off",
    )
    options = parser.parse_args(argv)
    cluster = Cluster(CACHE_DIR / "pg15")
    cluster.start()
    try:
        url = cluster.url(f"bench_{options.articles}")
        variables: dict[str, object] = {}
        if options.query == "article_by_slug":
            variables = {"slug": options.slug or asyncio.run(a_published_slug(url))}
        elif options.query == "search":
            variables = {"q": options.search}
        asyncio.run(
            run(
                url,
                document(options.query),
                variables,
                options.requests,
                compiled=not options.no_compiled,
            )
        )
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
