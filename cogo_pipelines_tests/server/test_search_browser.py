"""/dashboard/search in a real headless Chromium: sign in, search the indexed sample and a
second repo whose path has a bracketed segment; the page shows what the MCP search tool
answers (repo, path:lines, symbol · kind, score, snippet), says bad input in one line, and
fetches nothing from outside the sidecar."""

from __future__ import annotations

import os
import subprocess
import sys
from urllib.parse import quote

from cogo_pipelines.pipeline import knowledge_tools
from cogo_pipelines_tests.chromium import CHROMIUM_ARGS, chromium_path
from cogo_pipelines_tests.commands.test_search_text import ROUTE, ROUTE_SOURCE
from cogo_pipelines_tests.conftest import SAMPLE_REPO
from cogo_pipelines_tests.server.conftest import API_TOKEN

COGO = [sys.executable, "-c", "from cogo_pipelines.cli import main; main()"]


def _index(path, *args) -> None:
    done = subprocess.run([*COGO, "index", str(path), "--no-embed", *args], capture_output=True, text=True,
                          timeout=300, check=False, env=os.environ.copy())
    assert done.returncode == 0, done.stderr


def test_search_page_in_headless_chromium(sidecar, conn, tmp_path):
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    _index(SAMPLE_REPO)
    app = tmp_path / "web"
    (app / ROUTE).parent.mkdir(parents=True)
    (app / ROUTE).write_text(ROUTE_SOURCE)
    _index(app, "--name", "web")
    expected = knowledge_tools.search(conn, "computeLeaseExpiry", 5)["results"]
    requested: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("request", lambda request: requested.append(request.url))
            page.goto(f"{sidecar.url}/dashboard/local", wait_until="load")  # the login form first
            page.fill("#token", API_TOKEN)
            with page.expect_navigation():
                page.click("#sign-in")
            with page.expect_navigation():
                page.click("#search-link")
            assert page.url == f"{sidecar.url}/dashboard/search"
            assert page.locator("#results").count() == 0
            assert set(page.locator("#repo option").all_inner_texts()) == {"every repo", "cogo-sample", "web"}

            page.fill("#q", "computeLeaseExpiry")
            page.fill("#k", "5")
            with page.expect_navigation():
                page.click("#search")
            hits = page.locator("li.hit")
            assert hits.count() == len(expected) == 5
            first = page.locator("#hit-1")
            assert first.locator(".where").inner_text() == "1. cogo-sample:src/core/lease.ts:13-17"
            assert first.locator(".what").inner_text() == "computeLeaseExpiry · function"
            assert first.locator(".score").inner_text() == f"score {expected[0]['score']:.3f}"
            assert first.locator("pre").inner_text() == expected[0]["snippet"]
            wheres = [w.split(". ", 1)[1] for w in page.locator("li.hit .where").all_inner_texts()]
            assert wheres == [f"{h['repo']}:{h['path']}:{h['lines']}" for h in expected]  # the MCP tool's order

            page.goto(f"{sidecar.url}/dashboard/search?q={quote('user route GET')}&repo=web", wait_until="load")
            assert page.locator("#hit-1 .where").inner_text() == f"1. {ROUTE}:1-6"  # [userId] kept, one repo
            assert page.locator("#repo").input_value() == "web"
            assert "Promise<Response>" in page.locator("#hit-1 pre").inner_text()

            bad = page.goto(f"{sidecar.url}/dashboard/search?q=lease&repo=nope", wait_until="load")
            assert bad.status == 400
            assert page.locator("#search-error").inner_text() == "unknown repo 'nope'; indexed: cogo-sample, web"
            huge = page.goto(f"{sidecar.url}/dashboard/search?q=lease&k=100000", wait_until="load")
            assert huge.status == 400 and "k must be from 1 to 50" in page.locator("#search-error").inner_text()
            page.goto(f"{sidecar.url}/dashboard/search?q={quote('zzzqqqxxx')}", wait_until="load")
            assert page.locator("#no-results").is_visible()
            page.screenshot(path=str(tmp_path / "search.png"), full_page=True)
        finally:
            browser.close()
    outside = [url for url in requested if not url.startswith(sidecar.url)]
    assert outside == [], f"the search page fetched external assets: {outside}"
