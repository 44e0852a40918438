"""The real `make run` on free ports with a temporary COGO_HOME, looked at as a new user does: the
dashboard and the Dagster UI in headless Chromium, then `make stop`, after which nothing it
started is left.

Screenshots (PNG) go under the test's tmp_path and, when ``COGO_SCREENSHOTS_DIR`` is set, are
copied there too. The static embedding model is distilled by the first run (as on a fresh
clone) and kept in pytest's cache, keyed by its recipe, so later runs skip the ~100 s of
distillation; a run with ``-p no:cacheprovider`` always distils.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from cogo_pipelines.indexing import static_embedding
from cogo_pipelines_tests.chromium import CHROMIUM_ARGS, chromium_path
from cogo_pipelines_tests.deploy.helpers import REPO_ROOT
from cogo_pipelines_tests.processes import alive

BIN = Path(sys.executable).parent  # the venv running the tests (make's BIN)
SAMPLE_PARTITION = "cogo-sample"
# what `cogo index` brings up to date (the Neo4j mirror is not part of it)
INDEXED_ASSETS = ("source_files", "static_graph", "code_chunks", "chunk_embeddings", "pgvector_index")
DAGSTER_MODAL = "Join the Dagster community"
UI_WAIT_MS = 60_000  # the Dagster UI renders client-side; generous on a loaded machine


def _free_ports(count: int) -> list[int]:
    socks = [socket.socket() for _ in range(count)]
    try:
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def _started_by(home: Path) -> dict[int, str]:
    """Live processes whose environment carries this test's COGO_HOME (make exports it to all it
    starts, and their children inherit it): pid -> command line."""
    marker = f"COGO_HOME={home}".encode()
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        if marker in environ and alive(int(entry.name)):
            found[int(entry.name)] = cmdline
    return found


def _wait_for(what: str, check, timeout: float, interval: float = 1.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
            if value:
                return value
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        time.sleep(interval)


def _http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status == 200


def _graphql(dagster: str, query: str) -> dict:
    request = urllib.request.Request(f"{dagster}/graphql", data=json.dumps({"query": query}).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.loads(response.read())
    except urllib.error.HTTPError as exc:  # a 400 carries GraphQL's own message
        raise AssertionError(f"{exc}: {exc.read()[:1000]!r}") from None
    assert "errors" not in body, body
    return body["data"]


def _model_cache(request) -> Path | None:
    cache = getattr(request.config, "cache", None)
    return cache.mkdir(f"cogo-{static_embedding.STATIC_NAME}-{static_embedding.RECIPE}") if cache else None


def _make(*args: str, env: dict, timeout: float, log: Path) -> subprocess.CompletedProcess:
    with open(log, "w") as out:
        return subprocess.run(["make", "--no-print-directory", *args], cwd=REPO_ROOT, env=env, stdout=out,
                              stderr=subprocess.STDOUT, timeout=timeout, check=False)


@pytest.mark.slow
def test_make_run_shows_the_loop_in_the_dashboard_and_dagster_then_make_stop_stops_it(tmp_path, request):
    executable = chromium_path()
    from playwright.sync_api import expect, sync_playwright

    home = tmp_path / "home"
    shots = tmp_path / "screenshots"
    shots.mkdir()
    cached_model = _model_cache(request)
    model = static_embedding.model_dir(home)
    if cached_model is not None and static_embedding.is_distilled(cached_model / static_embedding.STATIC_NAME):
        shutil.copytree(cached_model / static_embedding.STATIC_NAME, model)
    port, dagster_port = _free_ports(2)
    sidecar, dagster = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{dagster_port}"
    env = {**os.environ, "COGO_HOME": str(home), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    for name in ("DATABASE_URL", "DAGSTER_HOME", "COGO_API_TOKEN", "METRICS_PORT", "EXECUTOR_ID",
                 "LIVE_INCLUDE_TYPES", "NOTIFY_WEBHOOK_URL", "EMBEDDING_MODEL"):
        env.pop(name, None)
    make_vars = [f"BIN={BIN}", f"COGO_HOME={home}", f"PORT={port}", f"DAGSTER_PORT={dagster_port}"]
    saved: list[Path] = []

    def screenshot(page, name: str) -> None:
        path = shots / name
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 10_000, f"{name} looks blank"
        saved.append(path)

    try:
        # -o setup: the venv running these tests is the installed one
        run = _make("-o", "setup", "run", *make_vars, env=env, timeout=480, log=tmp_path / "make-run.log")
        output = (tmp_path / "make-run.log").read_text()
        assert run.returncode == 0, output[-4000:]
        assert "FAIL: Q1 0.667 < threshold 0.70" in output
        if cached_model is not None and not static_embedding.is_distilled(cached_model / static_embedding.STATIC_NAME):
            staging = cached_model / f".staging-{os.getpid()}"
            shutil.copytree(model, staging)
            staging.rename(cached_model / static_embedding.STATIC_NAME)

        running = _started_by(home)
        commands = " | ".join(running.values())
        assert "postgres" in commands and "cogo serve" in commands and "dagster dev" in commands, running
        _wait_for("the sidecar", lambda: _http_ok(f"{sidecar}/healthz"), 60)
        _wait_for("the Dagster webserver", lambda: _http_ok(f"{dagster}/server_info"), 180, interval=2)

        # Dagster's own record: the sample is a partition of the knowledge assets, materialised by
        # the `cogo index` of make run; the gate ran as q1_gate_job, failed, and scored 0.667.
        keys = ", ".join(f'{{path: ["{asset}"]}}' for asset in INDEXED_ASSETS)
        nodes = _graphql(dagster, f"""{{ assetNodes(assetKeys: [{keys}]) {{ assetKey {{ path }} partitionKeys
            assetPartitionStatuses {{ ... on DefaultPartitionStatuses {{ materializedPartitions }} }} }} }}""")
        materialised = {n["assetKey"]["path"][0]: n["assetPartitionStatuses"]["materializedPartitions"]
                        for n in nodes["assetNodes"]}
        assert materialised == {asset: [SAMPLE_PARTITION] for asset in INDEXED_ASSETS}
        assert all(n["partitionKeys"] == [SAMPLE_PARTITION] for n in nodes["assetNodes"])
        runs = _graphql(dagster, "{ runsOrError { ... on Runs { results { runId jobName status } } } }")
        runs = runs["runsOrError"]["results"]
        assert [(r["jobName"], r["status"]) for r in runs] == [("q1_gate_job", "FAILURE")]
        gate_run = runs[0]["runId"]
        events = _graphql(dagster, f"""{{ logsForRun(runId: "{gate_run}") {{ ... on EventConnection {{ events {{
            __typename ... on ExecutionStepFailureEvent {{ failureMetadata {{ metadataEntries {{ label
            ... on FloatMetadataEntry {{ floatValue }} ... on UrlMetadataEntry {{ url }} }} }} }} }} }} }} }}""")
        failures = [e for e in events["logsForRun"]["events"] if e["__typename"] == "ExecutionStepFailureEvent"]
        assert len(failures) == 1
        entries = {m["label"]: m.get("floatValue", m.get("url"))
                   for m in failures[0]["failureMetadata"]["metadataEntries"]}
        assert round(entries["score"], 3) == 0.667
        assert entries["gate_fix_url"].startswith(f"{sidecar}/api/gate-fix/")

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.set_default_timeout(UI_WAIT_MS)

                # The sidecar's dashboard: the sample's jobs, the scored gate, its gate_fix.
                response = page.goto(f"{sidecar}/dashboard/local", wait_until="load")
                assert response is not None and response.status == 200
                numbers = {sel: page.locator(sel).inner_text() for sel in (
                    "#gate-status", "#q1-score", "#q1-threshold", "#jobs-succeeded", "#jobs-failed", "#jobs-queued")}
                assert numbers == {"#gate-status": "Q1 gate failed", "#q1-score": "0.667", "#q1-threshold": "0.70",
                                   "#jobs-succeeded": "3", "#jobs-failed": "2", "#jobs-queued": "0"}
                jobs = page.locator("#recent-jobs").inner_text()
                for job_type in ("plan.quality", "code.build.test", "quality.q1"):
                    assert job_type in jobs
                assert int(page.locator("#index-chunks").inner_text()) > 0
                assert page.locator("svg#q1-trend circle").count() >= 1
                screenshot(page, "dashboard.png")
                link = page.locator("#gate-fix-link")
                # relative on the page (never built from the Host header), the same place as Dagster's link
                assert not link.get_attribute("href").startswith("http")
                assert link.evaluate("a => a.href") == entries["gate_fix_url"]
                link.click()
                page.wait_for_load_state("load")
                expect(page.locator("#gate-fix-title")).to_contain_text("gate_fix", timeout=UI_WAIT_MS)
                assert "smoke/retry.test.mjs" in page.content()  # the failing job it explains
                screenshot(page, "gate_fix.png")

                # The Dagster UI: no first-run modal, the partition materialised, the failed gate run.
                page.goto(f"{dagster}/assets/pgvector_index?view=partitions&partition={SAMPLE_PARTITION}",
                          wait_until="load")
                expect(page.get_by_text(SAMPLE_PARTITION).first).to_be_visible(timeout=UI_WAIT_MS)
                expect(page.get_by_text("cogo index").first).to_be_visible(timeout=UI_WAIT_MS)  # the run's metadata
                assert page.get_by_text(DAGSTER_MODAL).count() == 0
                screenshot(page, "dagster_partition.png")
                page.goto(f"{dagster}/runs/{gate_run}", wait_until="load")
                expect(page.get_by_text("q1_gate_job").first).to_be_visible(timeout=UI_WAIT_MS)
                expect(page.get_by_text("FAIL: Q1 0.667").first).to_be_visible(timeout=UI_WAIT_MS)
                screenshot(page, "dagster_gate_run.png")
                page.goto(f"{dagster}/runs", wait_until="load")
                expect(page.get_by_text("q1_gate_job").first).to_be_visible(timeout=UI_WAIT_MS)
                expect(page.get_by_text("Failure").first).to_be_visible(timeout=UI_WAIT_MS)
                assert page.get_by_text(DAGSTER_MODAL).count() == 0
                screenshot(page, "dagster_runs.png")
            finally:
                browser.close()

        stop = _make("stop", *make_vars, env=env, timeout=120, log=tmp_path / "make-stop.log")
        stopped = (tmp_path / "make-stop.log").read_text()
        assert stop.returncode == 0, stopped[-2000:]
        # both shut down on SIGINT, as on Ctrl-C: none had to be killed
        assert {line.split()[1] for line in stopped.splitlines() if line.startswith("stopped ")} == {"serve", "dagster"}
        deadline = time.monotonic() + 30  # make stop waits itself; this is slack for a loaded machine
        while (left := _started_by(home)) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert left == {}, f"make stop left these running: {left}"
    finally:
        target = os.environ.get("COGO_SCREENSHOTS_DIR")
        if target:
            Path(target).mkdir(parents=True, exist_ok=True)
            for path in saved:
                shutil.copy2(path, Path(target) / path.name)
        # a failed assertion above must not leave servers behind on a shared machine
        for pid in _started_by(home):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
