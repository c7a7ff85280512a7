"""GraphiQL in a real headless Chromium (Debian's), with the network closed to all but us.

Playwright drives the system browser through ``executable_path``; it never downloads one.
Under ``CI=true`` a missing Chromium fails the run instead of skipping.
"""

import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from models.services.seed import ARTICLE_TITLE
from tests.server.running import environment, serving

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 20_000


@pytest.fixture
def chromium() -> str:
    if CHROMIUM is None:
        if IN_CI:
            pytest.fail("chromium not found (CI=true): install Debian's chromium package")
        pytest.skip("chromium not found; install Debian's chromium package")
    return CHROMIUM


def test_graphiql_runs_the_default_query_offline(chromium: str, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    offsite: list[str] = []
    page_errors: list[str] = []
    with serving(tmp_path, environment(), tmp_path / "serve.log") as base_url:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=FLAGS)
            try:
                context = browser.new_context()

                def only_local(route: sync_api.Route) -> None:
                    url = urlsplit(route.request.url)
                    if url.scheme in ("data", "blob") or url.hostname == "127.0.0.1":
                        route.continue_()
                    else:
                        offsite.append(route.request.url)
                        route.abort()

                context.route("**/*", only_local)
                page = context.new_page()
                page.on("pageerror", lambda error: page_errors.append(str(error)))

                # given: GraphiQL loaded from the server alone
                page.goto(f"{base_url}/graphql", wait_until="networkidle")
                page.wait_for_selector("button.graphiql-execute-button", timeout=TIMEOUT_MS)

                # when: the default query runs
                page.click("button.graphiql-execute-button")

                # then: the seed article's title is in the result pane
                page.wait_for_function(
                    "t => document.querySelector('.graphiql-response').innerText.includes(t)",
                    arg=ARTICLE_TITLE,
                    timeout=TIMEOUT_MS,
                )
                assert ARTICLE_TITLE in page.locator(".graphiql-response").inner_text()
                explorer = ".graphiql-sidebar button[aria-label='Show GraphiQL Explorer']"
                page.click(explorer)
                page.wait_for_selector(".graphiql-explorer-root", timeout=TIMEOUT_MS)
            finally:
                browser.close()
    assert offsite == []
    assert page_errors == []
