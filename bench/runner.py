"""Run the benchmark: PostgreSQL, data, servers, wrk, and a table of the results.

For every data size: start (or reuse) the cached PostgreSQL cluster and generated database,
then for each target (the limit baseline, Vestnik without and with its response cache) start
the server, check every query once (status 200, JSON, no ``errors``, data not empty, the same
data as the baseline), warm up, and drive each query with wrk for a fixed time, counting the
SQL statements PostgreSQL ran (pg_stat_statements) and reading the server's RSS after the run.
With ``--repeat N`` each measurement is taken N times and the medians are reported.

Usage: ``bench/run --help`` (bench/README.md explains every column).
"""

import argparse
import asyncio
import hashlib
import json
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from rich.console import Console
from rich.table import Table

from bench import generate
from bench.cluster import Cluster, bindir, free_port

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
QUERIES = ("list_page", "article_by_slug", "offices", "search", "deep", "editor_list_page")
# Queries an editor sends (with a token the runner issues): their document, and so the
# answer's shape, is another query's; what they see is not (drafts included).
EDITOR_DOCUMENTS = {"editor_list_page": "list_page"}
EDITOR_TOKEN_NAME = "bench-editor"
TARGETS = ("baseline", "uncached", "cached")
SLUGS = 500
console = Console(stderr=True)


@dataclass(frozen=True)
class Options:
    sizes: list[int]
    duration: int
    warmup: int
    connections: int
    threads: int
    repeat: int
    queries: list[str]
    targets: list[str]
    cache_dir: Path
    markdown: Path | None
    note: str
    source: Path


@dataclass
class Sample:
    rps: float
    p50_ms: float
    p99_ms: float
    sql_per_request: float
    rss_mb: float
    errors: int


@dataclass
class Result:
    size: int
    query: str
    target: str
    samples: list[Sample] = field(default_factory=list)

    def median(self, name: str) -> float:
        return float(statistics.median(float(getattr(s, name)) for s in self.samples))

    @property
    def errors(self) -> int:
        return sum(s.errors for s in self.samples)


# --- the requests ------------------------------------------------------------------------------


def document(name: str) -> str:
    """The query as a frontend's build would send it: comments dropped, whitespace collapsed."""
    text = (BENCH / "queries" / f"{EDITOR_DOCUMENTS.get(name, name)}.graphql").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    return re.sub(r"\s+", " ", " ".join(lines)).strip()


def graphql_path(name: str, variables: dict[str, Any] | None) -> str:
    params = {"query": document(name)}
    if variables:
        params["variables"] = json.dumps(variables, ensure_ascii=False, separators=(",", ":"))
    return "/graphql?" + urllib.parse.urlencode(params, quote_via=urllib.parse.quote)


def baseline_path(name: str, variables: dict[str, Any] | None) -> str:
    if not variables:
        return f"/{name}"
    encoded = json.dumps(variables, ensure_ascii=False, separators=(",", ":"))
    return f"/{name}?" + urllib.parse.urlencode(
        {"variables": encoded}, quote_via=urllib.parse.quote
    )


def variables_for(name: str, slugs: Sequence[str], search: str) -> list[dict[str, Any] | None]:
    if name == "article_by_slug":
        return [{"slug": slug} for slug in slugs]
    if name == "search":
        return [{"q": search}]
    return [None]


def paths_for(target: str, name: str, slugs: Sequence[str], search: str) -> list[str]:
    make = baseline_path if target == "baseline" else graphql_path
    return [make(name, v) for v in variables_for(name, slugs, search)]


def headers_for(target: str, name: str, facts: dict[str, Any]) -> dict[str, str]:
    """An editor's query carries the editor's token (the baseline needs none)."""
    if target == "baseline" or name not in EDITOR_DOCUMENTS:
        return {}
    return {"Authorization": f"Bearer {facts['editor_token']}"}


def wrk_script(paths: Sequence[str], directory: Path, headers: dict[str, str]) -> Path:
    lua = "paths = {\n" + "".join(f"  {json.dumps(p)},\n" for p in paths) + "}\n"
    lua += (
        "headers = {\n"
        + "".join(f"  [{json.dumps(k)}] = {json.dumps(v)},\n" for k, v in headers.items())
        + "}\n"
    )
    script = directory / f"wrk-{hashlib.sha256(lua.encode()).hexdigest()[:12]}.lua"
    script.write_text(lua + (BENCH / "check.lua").read_text())
    return script


# --- servers -----------------------------------------------------------------------------------


class Server:
    def __init__(self, target: str, dsn: str, url: str, log: Path, source: Path) -> None:
        self.target = target
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("VESTNIK_")}
        if target == "baseline":
            args = [sys.executable, "-m", "bench.baseline", "--dsn", dsn, "--port", str(self.port)]
        else:
            args = [sys.executable, "-m", "server", "serve", "--port", str(self.port)]
            env |= {
                "VESTNIK_DATABASE_URL": url,
                "VESTNIK_HOST": "127.0.0.1",
                "VESTNIK_WORKERS": "1",
                "VESTNIK_RATE_LIMIT_PER_MINUTE": "0",
                "VESTNIK_EDITOR_RATE_LIMIT_PER_MINUTE": "0",
                "VESTNIK_MAX_CONCURRENT_REQUESTS": "10000",
                "VESTNIK_LOG_LEVEL": "warning",
                "VESTNIK_SEED_ON_START": "false",
                "VESTNIK_RESPONSE_CACHE": "true" if target == "cached" else "false",
            }
        self.log = log.open("ab")
        if target != "baseline":
            # The app from ``source`` (a --commit snapshot or this checkout): ``python -m``
            # puts the working directory first on sys.path.
            env["PYTHONPATH"] = str(source)
        cwd = ROOT if target == "baseline" else source
        self.process = subprocess.Popen(args, cwd=cwd, env=env, stdout=self.log, stderr=self.log)
        self._wait_ready(log)

    def _wait_ready(self, log: Path) -> None:
        probe = "/healthz" if self.target != "baseline" else "/offices"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.target} server exited; see {log}")
            try:
                with urllib.request.urlopen(self.base + probe, timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        raise SystemExit(f"{self.target} server did not start in 120 s; see {log}")

    def rss_mb(self) -> float:
        """VmRSS of the server process and its children (one uvicorn worker: just itself)."""
        total = 0
        for pid in _process_tree(self.process.pid):
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            if match := re.search(r"^VmRSS:\s+(\d+) kB", status, re.M):
                total += int(match.group(1))
        return total / 1024

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def _process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def fetch(url: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """One request, checked: 200, JSON, no errors, data present and not empty."""
    request = urllib.request.Request(url, headers={"Accept": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
    except urllib.error.HTTPError as error:
        raise SystemExit(f"GET {url[:200]} -> {error.code}: {error.read()[:500]!r}") from None
    payload: dict[str, Any] = json.loads(body)
    if payload.get("errors") or not payload.get("data"):
        raise SystemExit(f"GET {url[:200]} answered errors or no data: {body[:500]!r}")
    (value,) = payload["data"].values()
    nodes = value.get("nodes") if isinstance(value, dict) else None
    if not value or (nodes is not None and not nodes):
        raise SystemExit(f"GET {url[:200]} answered empty data: {body[:500]!r}")
    return payload


def differences(a: Any, b: Any, path: str = "data") -> Iterator[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            yield from differences(a.get(key), b.get(key), f"{path}.{key}")
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            yield from differences(x, y, f"{path}[{i}]")
    elif a != b:
        yield f"{path}: {str(a)[:80]!r} != {str(b)[:80]!r}"


# --- the database --------------------------------------------------------------------------------


def fingerprint(seed: int) -> str:
    """Names the generated data: a cached database with another one is generated again."""
    return f"v{generate.DATA_VERSION}-seed{seed}"


def migrate(url: str, source: Path) -> None:
    """Migrations added since the data was generated, applied by the app that will serve it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VESTNIK_")}
    env |= {"VESTNIK_DATABASE_URL": url, "PYTHONPATH": str(source)}
    args = [sys.executable, "-m", "server", "migrate"]
    done = subprocess.run(args, cwd=source, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"vestnik migrate failed:\n{done.stdout}{done.stderr}")


async def prepare(cluster: Cluster, size: int, cache_dir: Path) -> dict[str, Any]:
    """The generated database for ``size`` (generated now unless cached); its facts."""
    name = f"bench_{size}"
    marker = cache_dir / f"{name}.json"
    expected = fingerprint(generate.SEED)
    facts: dict[str, Any] = json.loads(marker.read_text()) if marker.exists() else {}
    admin = await asyncpg.connect(cluster.dsn("postgres"))
    try:
        # The runner reads and resets the statistics from here (see Statements).
        await admin.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists or facts.get("fingerprint") != expected:
            marker.unlink(missing_ok=True)
            await admin.execute(f"DROP DATABASE IF EXISTS {name}")
            await admin.execute(f"CREATE DATABASE {name}")
            console.print(f"[bold]generating {size:,} articles into {name}[/]")
            seconds = await generate.load(cluster.url(name), size)
            facts = {"fingerprint": expected, "articles": size, "load_seconds": round(seconds, 1)}
            marker.write_text(json.dumps(facts))
            console.print(f"generated in {seconds:.1f} s")
    finally:
        await admin.close()
    db = await asyncpg.connect(cluster.dsn(name))
    try:
        await db.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        facts["slugs"] = [
            r["slug"]
            for r in await db.fetch(
                f"SELECT slug FROM article WHERE {_visible()} ORDER BY md5(slug) LIMIT {SLUGS}"
            )
        ]
        facts["search"] = generate.search_words()
        facts["search_hits"] = await db.fetchval(
            f"SELECT count(*) FROM article WHERE {_visible()} "
            "AND search_vector @@ plainto_tsquery('simple', $1)",
            facts["search"],
        )
        facts["database_mb"] = round(
            await db.fetchval("SELECT pg_database_size(current_database())") / 2**20
        )
    finally:
        await db.close()
    return facts


async def _forget_editor_token(cluster: Cluster, database: str) -> None:
    db = await asyncpg.connect(cluster.dsn(database))
    try:
        await db.execute("DELETE FROM api_token WHERE name = $1", EDITOR_TOKEN_NAME)
    finally:
        await db.close()


def issue_editor_token(cluster: Cluster, database: str, source: Path) -> str:
    """A fresh editor token, issued by the served code's own ``vestnik token create`` (the
    previous run's is deleted first)."""
    asyncio.run(_forget_editor_token(cluster, database))
    env = {k: v for k, v in os.environ.items() if not k.startswith("VESTNIK_")}
    env |= {"VESTNIK_DATABASE_URL": cluster.url(database), "PYTHONPATH": str(source)}
    args = [sys.executable, "-m", "server", "token", "create", "--name", EDITOR_TOKEN_NAME]
    done = subprocess.run(
        [*args, "--role", "editor"], cwd=source, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"vestnik token create failed:\n{done.stderr}")
    return done.stdout.strip().splitlines()[0]


def _visible() -> str:
    return "status = 'published' AND published_at <= now()"


class Statements:
    """Counts statements PostgreSQL ran for one database (pg_stat_statements, top level)."""

    def __init__(self, cluster: Cluster, database: str) -> None:
        self.cluster, self.database = cluster, database

    async def _run(self, sql: str) -> Any:
        # From the postgres database, so these statements are not counted themselves.
        connection = await asyncpg.connect(self.cluster.dsn("postgres"))
        try:
            return await connection.fetchval(sql, self.database)
        finally:
            await connection.close()

    def reset(self) -> None:
        asyncio.run(
            self._run(
                "SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database "
                "WHERE datname = $1), 0)::text"
            )
        )

    def count(self) -> int:
        total = asyncio.run(
            self._run(
                "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE toplevel "
                "AND dbid = (SELECT oid FROM pg_database WHERE datname = $1)"
            )
        )
        return int(total)


# --- wrk -----------------------------------------------------------------------------------------


def wrk(url: str, script: Path, options: Options, seconds: int) -> dict[str, int]:
    args = [
        "wrk", f"-t{options.threads}", f"-c{options.connections}", f"-d{seconds}s",
        "--timeout", "5s", "-s", str(script), url,
    ]  # fmt: skip
    out = subprocess.run(args, capture_output=True, text=True, check=False)
    match = re.search(r"^BENCH_RESULT (.*)$", out.stdout, re.M)
    if out.returncode != 0 or match is None:
        raise SystemExit(f"wrk failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    return {key: int(value) for key, value in (p.split("=") for p in match.group(1).split())}


def measure(server: Server, script: Path, options: Options, statements: Statements) -> Sample:
    # Requests wrk gave up on may still be running: let them finish before counting anew.
    time.sleep(1)
    statements.reset()
    result = wrk(server.base + "/", script, options, options.duration)
    calls = statements.count()
    requests = max(result["requests"], 1)
    errors = (
        result["bad_status"]
        + result["graphql_errors"]
        + result["socket_errors"]
        + result["timeouts"]
    )
    if result["requests"] == 0:
        # Not one answer in the whole run: every connection's request failed.
        errors += options.connections
    return Sample(
        rps=result["requests"] / (result["duration_us"] / 1e6),
        p50_ms=result["p50_us"] / 1000,
        p99_ms=result["p99_us"] / 1000,
        sql_per_request=calls / requests,
        rss_mb=server.rss_mb(),
        errors=errors,
    )


# --- one run --------------------------------------------------------------------------------------


def first_one(name: str) -> str:
    """The document with every page size set to 1, for the statements-per-page-size check."""
    return re.sub(r"first: \d+", "first: 1", document(name))


def page_size_check(
    server: Server, name: str, facts: dict[str, Any], statements: Statements
) -> tuple[int, int]:
    """SQL statements of one request at the document's page sizes and at page size 1.

    Only for the uncached server: the repeated request would be a cache hit otherwise.
    """
    counts = []
    (variables,) = variables_for(name, facts["slugs"][:1], facts["search"])
    for doc in (document(name), first_one(name)):
        params = {"query": doc}
        if variables:
            params["variables"] = json.dumps(variables)
        url = server.base + "/graphql?" + urllib.parse.urlencode(params)
        headers = headers_for(server.target, name, facts)
        fetch(url, headers)  # once unmeasured: a new pooled connection's set-up is not the query's
        statements.reset()
        fetch(url, headers)
        counts.append(statements.count())
    return counts[0], counts[1]


def run(options: Options) -> tuple[list[Result], dict[int, dict[str, Any]], dict[str, Any]]:
    options.cache_dir.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(options.cache_dir / "pg15")
    cluster.start()
    results: list[Result] = []
    facts_by_size: dict[int, dict[str, Any]] = {}
    checks: dict[str, Any] = {"page_sizes": {}}
    logs = options.cache_dir / "logs"
    logs.mkdir(exist_ok=True)
    try:
        for size in options.sizes:
            facts = asyncio.run(prepare(cluster, size, options.cache_dir))
            migrate(cluster.url(f"bench_{size}"), options.source)
            facts["editor_token"] = issue_editor_token(cluster, f"bench_{size}", options.source)
            facts_by_size[size] = facts
            database = f"bench_{size}"
            statements = Statements(cluster, database)
            console.print(
                f"[bold]{size:,} articles[/]: database {facts['database_mb']} MB, "
                f"search {facts['search']!r} matches {facts['search_hits']} articles"
            )
            reference: dict[str, Any] = {}
            with tempfile.TemporaryDirectory(prefix="vestnik-bench-") as tmp:
                for target in options.targets:
                    log = logs / f"{target}-{size}.log"
                    server = Server(
                        target, cluster.dsn(database), cluster.url(database), log, options.source
                    )
                    try:
                        if target == "uncached":  # before any load: nothing else running
                            for name in ("list_page", "search", "deep", "editor_list_page"):
                                if name in options.queries:
                                    checks["page_sizes"][f"{size}/{name}"] = page_size_check(
                                        server, name, facts, statements
                                    )
                        run_target(server, size, facts, options, statements, reference,
                                   Path(tmp), results)  # fmt: skip
                    finally:
                        server.stop()
    finally:
        cluster.stop()
    return results, facts_by_size, checks


def run_target(
    server: Server,
    size: int,
    facts: dict[str, Any],
    options: Options,
    statements: Statements,
    reference: dict[str, Any],
    tmp: Path,
    results: list[Result],
) -> None:
    target = server.target
    for name in options.queries:
        paths = paths_for(target, name, facts["slugs"], facts["search"])
        payload = fetch(server.base + paths[0], headers_for(target, name, facts))
        if name in reference:
            found = list(differences(reference[name], payload))
            if found:
                console.print(f"[red]{target} {name}: data differs from the baseline[/]")
                for line in found[:5]:
                    console.print(f"  {line}")
        elif target == "baseline":
            reference[name] = payload
    for name in options.queries:
        paths = paths_for(target, name, facts["slugs"], facts["search"])
        script = wrk_script(paths, tmp, headers_for(target, name, facts))
        result = Result(size, name, target)
        if options.warmup:
            wrk(server.base + "/", script, options, options.warmup)
        for _ in range(options.repeat):
            result.samples.append(measure(server, script, options, statements))
        results.append(result)
        console.print(
            f"  {size:>9,} {name:<16} {target:<9} {result.median('rps'):8.0f} req/s  "
            f"p50 {result.median('p50_ms'):7.2f} ms  p99 {result.median('p99_ms'):7.2f} ms  "
            f"SQL/req {result.median('sql_per_request'):5.2f}  "
            f"RSS {result.median('rss_mb'):5.0f} MB  errors {result.errors}"
        )


# --- reporting ------------------------------------------------------------------------------------


def ratio(results: list[Result], r: Result) -> float | None:
    for b in results:
        if (b.size, b.query, b.target) == (r.size, r.query, "baseline") and b.median("rps"):
            return r.median("rps") / b.median("rps")
    return None


def table_rows(results: list[Result], size: int) -> list[list[str]]:
    rows = []
    for r in results:
        if r.size != size:
            continue
        x = ratio(results, r)
        answered = r.median("rps") > 0  # else latencies and per-request counts mean nothing
        rows.append(
            [
                r.query,
                r.target,
                f"{r.median('rps'):.0f}",
                f"{r.median('p50_ms'):.2f}" if answered else "—",
                f"{r.median('p99_ms'):.2f}" if answered else "—",
                f"{r.median('sql_per_request'):.2f}" if answered else "—",
                f"{r.median('rss_mb'):.0f}",
                str(r.errors),
                "" if x is None else f"{x:.2f}x",
            ]
        )
    return rows


HEADERS = [
    "query",
    "target",
    "req/s",
    "p50 ms",
    "p99 ms",
    "SQL/req",
    "RSS MB",
    "errors",
    "vs baseline",
]


def find(results: list[Result], size: int, query: str, target: str) -> Result | None:
    for r in results:
        if (r.size, r.query, r.target) == (size, query, target):
            return r
    return None


def targets_table(
    results: list[Result], checks: dict[str, Any], sizes: Sequence[int], connections: int
) -> list[list[str]]:
    """The targets (issue 11's for uncached answers, issue 5's for cached ones), each met,
    not met, or not measured by this run."""
    rows: list[list[str]] = []

    def verdict(ok: bool | None) -> str:
        return "not measured" if ok is None else ("met" if ok else "**not met**")

    def answered(r: Result) -> bool:
        return r.median("rps") > 0

    for size in sizes:
        for r in [r for r in results if r.size == size and r.target == "uncached"]:
            x = ratio(results, r)
            rows.append(
                [f"uncached {r.query} ≥ 0.6x baseline req/s ({size:,})",
                 "" if x is None else f"{x:.2f}x", verdict(None if x is None else x >= 0.6)]
            )  # fmt: skip
            spread = r.median("p99_ms") / r.median("p50_ms") if answered(r) else None
            rows.append(
                [f"uncached {r.query} p99 ≤ 3x p50 ({size:,})",
                 "" if spread is None else f"{spread:.1f}x",
                 verdict(None if spread is None else spread <= 3)]
            )  # fmt: skip
    for key, (full, one) in sorted(checks["page_sizes"].items()):
        rows.append(
            [f"same SQL statements for any page size ({key})",
             f"{full} at the query's sizes, {one} at first: 1", verdict(full == one)]
        )  # fmt: skip
    for size in sizes:
        cached = [r for r in results if r.size == size and r.target == "cached"]
        for r in cached:
            x = ratio(results, r)
            rows.append(
                [f"cached {r.query} ≥ 1.5x baseline req/s ({size:,})",
                 "" if x is None else f"{x:.2f}x", verdict(None if x is None else x >= 1.5)]
            )  # fmt: skip
            rows.append(
                [f"cached {r.query} p99 < 20 ms at {connections} connections ({size:,})",
                 f"{r.median('p99_ms'):.2f} ms",
                 verdict(answered(r) and r.median("p99_ms") < 20 if connections == 16 else None)]
            )  # fmt: skip
    if 10_000 in sizes and 1_000_000 in sizes:
        for target in ("uncached", "cached"):
            for query in ("list_page", "article_by_slug"):
                small = find(results, 10_000, query, target)
                big = find(results, 1_000_000, query, target)
                if small and big and answered(small) and answered(big):
                    x = big.median("p50_ms") / small.median("p50_ms")
                    rows.append(
                        [f"{target} {query} p50 at 1M ≤ 1.3x p50 at 10k", f"{x:.2f}x",
                         verdict(x <= 1.3)]
                    )  # fmt: skip
    if 1_000_000 in sizes:
        for target in ("uncached", "cached"):
            found = find(results, 1_000_000, "search", target)
            if found:
                rows.append(
                    [f"{target} search p50 < 50 ms at 1M", f"{found.median('p50_ms'):.2f} ms",
                     verdict(answered(found) and found.median("p50_ms") < 50)]
                )  # fmt: skip
    vestnik = [r for r in results if r.target != "baseline"]
    if vestnik:
        worst = max(r.median("rss_mb") for r in vestnik)
        rows.append(["server RSS < 200 MB after the runs", f"{worst:.0f} MB", verdict(worst < 200)])
    return rows


def machine() -> dict[str, str]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = Path("/proc/meminfo").read_text().split("\n", 1)[0].split()[1]
    pg = subprocess.run(
        [str(bindir() / "postgres"), "--version"],
        capture_output=True, text=True, check=False,
    ).stdout.strip()  # fmt: skip
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    return {
        "CPU": f"{cpu}, {os.cpu_count()} cores",
        "memory": f"{int(memory) / 2**20:.1f} GiB",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "PostgreSQL": pg,
        "wrk": (wrk_version.stdout or wrk_version.stderr).split("\n")[0].split(" Copyright")[0],
    }


def git_commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD")
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return commit + (" (with uncommitted changes in the working tree)" if dirty else "")


def markdown_report(
    options: Options,
    results: list[Result],
    facts: dict[int, dict[str, Any]],
    checks: dict[str, Any],
    command: str,
    started: datetime,
    load: tuple[str, str],
) -> str:
    def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
        lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)

    out = [
        "# Benchmark results",
        "",
        "Generated by `bench/run` (bench/README.md explains the method and every column); "
        "regenerate this file with the command below.",
        "",
        f"- Command: `{command}`",
        f"- Date: {started:%Y-%m-%d %H:%M} UTC",
        f"- Commit: {git_commit() if options.source == ROOT else options.source.name}"
        + ("" if options.source == ROOT else " (served from a git archive of it)"),
        *(f"- {key}: {value}" for key, value in machine().items()),
        f"- Load average (1 min) before / after: {load[0]} / {load[1]}",
        f"- wrk: {options.threads} threads, {options.connections} connections, "
        f"{options.duration} s per run after a {options.warmup} s warm-up, "
        f"median of {options.repeat} run(s)",
    ]
    if options.note:
        out += ["", f"**Note:** {options.note}"]
    for size in options.sizes:
        f = facts[size]
        out += [
            "",
            f"## {size:,} articles",
            "",
            f"Database {f['database_mb']} MB"
            + (f", generated in {f['load_seconds']} s" if "load_seconds" in f else "")
            + f"; search `{f['search']}` matches {f['search_hits']} published articles.",
            "",
            table(HEADERS, table_rows(results, size)),
        ]
    out += [
        "",
        "## Targets (issues 5 and 11)",
        "",
        table(
            ["target", "measured", "verdict"],
            targets_table(results, checks, options.sizes, options.connections),
        ),
        "",
    ]
    return "\n".join(out)


def parse(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, action="append", choices=(10_000, 1_000_000),
                        help="data size; give twice for both (default 10000)")  # fmt: skip
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of wrk before each query")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement (median)")
    parser.add_argument("--query", action="append", choices=QUERIES, help="default: all")
    parser.add_argument("--target", action="append", choices=TARGETS, help="default: all")
    parser.add_argument("--cache-dir", type=Path, default=Path("/var/tmp/vestnik-bench"),
                        help="cluster and generated data, kept between runs")  # fmt: skip
    parser.add_argument("--markdown", type=Path, help="write the results as markdown here")
    parser.add_argument("--note", default="", help="a remark for the markdown report")
    parser.add_argument("--commit", help="serve the app as of this commit (git archive), "
                        "not the working tree")  # fmt: skip
    args = parser.parse_args(argv)
    source = ROOT if args.commit is None else snapshot(args.commit, args.cache_dir)
    return Options(
        sizes=sorted(set(args.articles or [10_000])),
        duration=args.duration,
        warmup=args.warmup,
        connections=args.connections,
        threads=min(args.threads, args.connections),
        repeat=args.repeat,
        queries=args.query or list(QUERIES),
        targets=[t for t in TARGETS if t in (args.target or TARGETS)],
        cache_dir=args.cache_dir,
        markdown=args.markdown,
        note=args.note,
        source=source,
    )


def snapshot(revision: str, cache_dir: Path) -> Path:
    """The tree of ``revision`` in the cache directory, for a server unaffected by edits."""
    sha = subprocess.run(
        ["git", "rev-parse", "--verify", f"{revision}^{{commit}}"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    target = cache_dir / "src" / sha
    if not target.exists():
        partial = target.with_suffix(".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        archive = subprocess.run(["git", "archive", sha], cwd=ROOT, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(partial)], input=archive.stdout, check=True)
        partial.rename(target)
    return target


def main(argv: Sequence[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    options = parse(argv)
    started = datetime.now(UTC)
    load_before = Path("/proc/loadavg").read_text().split()[0]
    results, facts, checks = run(options)
    load_after = Path("/proc/loadavg").read_text().split()[0]
    for size in options.sizes:
        table = Table(title=f"{size:,} articles")
        for header in HEADERS:
            table.add_column(header, justify="left" if header in ("query", "target") else "right")
        for row in table_rows(results, size):
            table.add_row(*row)
        Console().print(table)
    targets = Table(title="Targets (issues 5 and 11)")
    for header in ("target", "measured", "verdict"):
        targets.add_column(header)
    for row in targets_table(results, checks, options.sizes, options.connections):
        targets.add_row(*row)
    Console().print(targets)
    if options.markdown is not None:
        command = shlex.join(["bench/run", *argv])
        report = markdown_report(
            options, results, facts, checks, command, started, (load_before, load_after)
        )
        options.markdown.write_text(report)
        console.print(f"wrote {options.markdown}")


if __name__ == "__main__":
    main()
