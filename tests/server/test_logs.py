"""Log lines: one JSON object each, with the request id while a request is handled.

Requests go through the real app (httpx ASGITransport) with ``configure_logging`` writing
to a buffer; the last test runs ``vestnik serve`` with two workers and reads its output.
"""

import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from models.db import make_engine
from server.app import create_app
from server.logs import configure_logging
from server.middleware import current_request_id
from server.settings import Settings
from tests.server.running import environment, serving, vestnik

pytestmark = pytest.mark.anyio

NO_STARTUP = Settings(migrate_on_start=False, seed_on_start=False)
OFFICES_QUERY = "query Offices { offices { totalCount } }"
FIELDS = {"time", "level", "logger", "message"}
# The loggers configure_logging takes over; restored after each test.
LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access")


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """A buffer to configure logging with; the previous configuration comes back afterwards."""
    saved = [
        (logger, logger.handlers[:], logger.level, logger.propagate)
        for logger in map(logging.getLogger, LOGGERS)
    ]
    yield io.StringIO()
    for logger, handlers, level, propagate in saved:
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


def json_lines(text: str) -> list[dict[str, object]]:
    """Each line as a JSON object; fails on any line that is not one."""
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert all(isinstance(line, dict) and FIELDS <= line.keys() for line in lines), lines
    return lines


def with_message(lines: list[dict[str, object]], fragment: str) -> dict[str, object]:
    [line] = [line for line in lines if fragment in str(line["message"])]
    return line


@pytest.fixture
async def unreachable_client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """An app whose SQLite file is in a missing directory: its failures are logged."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/no-such-dir/vestnik.db")
    app = create_app(NO_STARTUP, engine=engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        yield c
    await engine.dispose()


async def test_json_lines_carry_the_request_id_and_the_traceback_inside(
    log_output, unreachable_client
):
    # given
    configure_logging(Settings(log_format="json", log_level="info"), stream=log_output)

    # when: a probe with a proxy's id, a GraphQL request with a made-up one, and a line outside
    ready = await unreachable_client.get("/readyz", headers={"x-request-id": "probe-42"})
    graphql = await unreachable_client.post("/graphql", json={"query": OFFICES_QUERY})
    logging.getLogger("vestnik").info("outside any request")

    # then
    assert (ready.status_code, graphql.status_code) == (503, 503)
    lines = json_lines(log_output.getvalue())
    readiness = with_message(lines, "readiness check failed")
    assert readiness["level"] == "WARNING"
    assert readiness["logger"] == "vestnik"
    assert readiness["request_id"] == ready.headers["x-request-id"] == "probe-42"
    assert "Traceback" in str(readiness["exc_info"])  # the whole traceback, on the one line
    rid = graphql.json()["errors"][0]["extensions"]["requestId"]
    database = [line for line in lines if "database unavailable" in str(line["message"])]
    assert database
    assert {line["request_id"] for line in database} == {graphql.headers["x-request-id"]} == {rid}
    assert "request_id" not in with_message(lines, "outside any request")
    assert str(readiness["time"]).endswith("Z")
    assert current_request_id.get() is None


async def test_text_lines_for_people(log_output, unreachable_client):
    # given
    configure_logging(Settings(log_format="text"), stream=log_output)

    # when
    await unreachable_client.get("/readyz", headers={"x-request-id": "probe-7"})
    logging.getLogger("vestnik").info("outside any request")

    # then
    text = log_output.getvalue()
    assert " WARNING vestnik [probe-7] readiness check failed\n" in text
    assert "Traceback (most recent call last)" in text
    assert " INFO vestnik [-] outside any request\n" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text.splitlines()[0])


def test_uvicorn_lines_are_json_without_colour(log_output):
    # given
    configure_logging(Settings(), stream=log_output)

    # when: the calls uvicorn makes for its start-up and access lines
    logging.getLogger("uvicorn.error").info(
        "Started server process [%d]", 1, extra={"color_message": "\x1b[36m%d\x1b[0m"}
    )
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", "/healthz", "1.1", 200
    )

    # then
    started, access = json_lines(log_output.getvalue())
    assert started == {
        "time": started["time"],
        "level": "INFO",
        "logger": "uvicorn.error",
        "message": "Started server process [1]",
    }
    assert access["message"] == '127.0.0.1:5000 - "GET /healthz HTTP/1.1" 200'
    assert (access["method"], access["path"], access["status"]) == ("GET", "/healthz", 200)


def requests_by_operation(base_url: str) -> dict[str, float]:
    text = httpx.get(f"{base_url}/metrics", timeout=5).text
    counts: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "vestnik_http_requests_total":
                operation = sample.labels["operation"]
                counts[operation] = counts.get(operation, 0) + sample.value
    return counts


def test_serve_with_two_workers_writes_json_lines_and_adds_up_metrics(tmp_path: Path):
    # given: a seeded database, and two workers that need not migrate it
    site = tmp_path / "site"
    temporary = tmp_path / "tmp"
    site.mkdir()
    temporary.mkdir()
    env = environment(workers="2", migrate_on_start="false", seed_on_start="false")
    env["TMPDIR"] = str(temporary)
    assert vestnik("seed", cwd=site, env=env).returncode == 0
    log = tmp_path / "serve.log"

    # when
    with serving(site, env, log) as base_url:
        before = requests_by_operation(base_url)
        for _ in range(6):  # new connections: the kernel spreads them over the workers
            assert httpx.get(f"{base_url}/healthz", timeout=5).status_code == 200
        answer = httpx.post(
            f"{base_url}/graphql",
            json={"query": OFFICES_QUERY},
            headers={"x-request-id": "e2e-request-1"},
            timeout=10,
        )
        after = requests_by_operation(base_url)
        metrics_dir_while_serving = list(temporary.iterdir())

    # then: every line of output is a JSON object, the access line has the request id
    assert answer.json() == {"data": {"offices": {"totalCount": 1}}}
    lines = json_lines(log.read_text())
    access = [line for line in lines if line.get("request_id") == "e2e-request-1"]
    assert [(line["logger"], line["path"], line["status"]) for line in access] == [
        ("uvicorn.access", "/graphql", 200)
    ]
    assert sum("Application startup complete" in str(line["message"]) for line in lines) == 2
    # one count from both workers' files; the GraphQL operation's label is the view's to say
    assert after.get("healthz", 0) - before.get("healthz", 0) == 6
    assert sum(after.values()) - sum(before.values()) == 7
    assert [path.name.startswith("vestnik-metrics-") for path in metrics_dir_while_serving] == [
        True
    ]
    assert list(temporary.iterdir()) == []
