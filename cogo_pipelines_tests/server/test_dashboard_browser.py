"""/dashboard/local in a real headless Chromium against a seeded store: the browser signs in
with the API token (the login form), the charts are drawn, the numbers are right, nothing is
fetched from outside the sidecar. Saves a screenshot."""

from __future__ import annotations

from cogo_pipelines_tests.chromium import CHROMIUM_ARGS, chromium_path
from cogo_pipelines_tests.server.conftest import API_TOKEN
from cogo_pipelines_tests.server.seed import seed


def test_dashboard_in_headless_chromium(sidecar, conn, tmp_path):
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    ids = seed(conn)
    requested: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("request", lambda request: requested.append(request.url))
            # Not signed in: the dashboard sends the browser to the login form.
            response = page.goto(f"{sidecar.url}/dashboard/local", wait_until="load")
            assert response is not None and response.status == 200
            assert page.url.startswith(f"{sidecar.url}/login?next=")
            assert page.locator("svg#q1-trend").count() == 0
            # A wrong token: 401, the form again, no cookie.
            page.fill("#token", "not-the-token")
            with page.expect_navigation():
                page.click("#sign-in")
            assert page.locator("#login-error").is_visible() and page.context.cookies() == []
            # The right one: an HttpOnly, SameSite=Strict session cookie, back to the dashboard.
            page.fill("#token", API_TOKEN)
            with page.expect_navigation():
                page.click("#sign-in")
            assert page.url == f"{sidecar.url}/dashboard/local"
            cookies = page.context.cookies()
            assert [(c["name"], c["httpOnly"], c["sameSite"]) for c in cookies] == [("cogo_session", True, "Strict")]
            assert API_TOKEN not in cookies[0]["value"] and API_TOKEN not in page.content()

            # Q1 trend: one point per scored run, the threshold drawn as its own line.
            trend = page.locator("svg#q1-trend")
            assert trend.is_visible()
            assert trend.locator("circle").count() == 5
            assert trend.locator("line.threshold").count() == 1
            assert trend.locator("path.trend").get_attribute("d").startswith("M")
            assert "threshold 0.70" in trend.text_content()
            # Queue depth: one segment per (executor, status) with jobs.
            queue = page.locator("svg#queue-chart")
            assert queue.is_visible() and queue.locator("rect.bar").count() == 6
            assert {"cogo-work", "cogo-plan"} <= set(queue.locator("text").all_text_contents())

            numbers = {sel: page.locator(sel).inner_text() for sel in (
                "#q1-score", "#q1-threshold", "#jobs-queued", "#jobs-failed", "#index-files", "#index-symbols",
                "#index-edges", "#index-chunks", "#gate-status")}
            assert numbers == {"#q1-score": "0.660", "#q1-threshold": "0.70", "#jobs-queued": "2", "#jobs-failed": "1",
                               "#index-files": "3", "#index-symbols": "7", "#index-edges": "5", "#index-chunks": "4",
                               "#gate-status": "Q1 gate failed"}
            rows = page.locator("#recent-jobs tbody tr")
            assert rows.count() == 8
            assert "12.5 s" in page.locator("#recent-jobs").inner_text()  # a duration
            assert page.locator('meta[http-equiv="refresh"]').count() == 1

            screenshot = tmp_path / "dashboard.png"
            page.screenshot(path=str(screenshot), full_page=True)
            assert screenshot.stat().st_size > 10_000
            print(f"\ndashboard screenshot: {screenshot}")

            link = page.locator("#gate-fix-link")
            assert link.get_attribute("href").endswith(f"/api/gate-fix/{ids['gate_fix_id']}")
            link.click()
            page.wait_for_load_state("load")
            assert page.locator("#gate-fix-title").inner_text().startswith(f"gate_fix {ids['gate_fix_id']}")
        finally:
            browser.close()
    outside = [url for url in requested if not url.startswith(sidecar.url)]
    assert outside == [], f"the dashboard fetched external assets: {outside}"
