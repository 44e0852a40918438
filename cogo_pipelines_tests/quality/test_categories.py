"""The category table (``quality/categories.py``) is the one place a job-result category is named:
every category in it shows up in a real gate run's counts, JSON, recorded row, gate_fix and
Markdown, and one added to it does too, with no other edit (the table is extended here for
the test only, then the unmodified gate runs over real job rows in the embedded store)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

from rich.console import Console

from cogo_pipelines.commands.quality import gate_table
from cogo_pipelines.defs.quality.jobs import _gate_metadata
from cogo_pipelines.pipeline.gate import run_q1_gate
from cogo_pipelines.quality import categories, gate
from cogo_pipelines.quality.categories import Category

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
# one job row per category: (status, error, result); a category added to the table needs a row here
ROWS = {
    "succeeded": ("succeeded", None, {"exit_code": 0}),
    "failed": ("failed", "exited with code 1", {"log_tail": "AssertionError: expected 1 to be 2\n"}),
    "infra_failed": ("failed", "command timed out after 600 s", {"timed_out": True}),
    "flaky": ("succeeded", None, {"flaky": True, "exit_code": 0,
                                  "attempts": [{"attempt": 1, "exit_code": 1, "log_tail": " FAIL  a.test.ts > x\n"}]}),
}
# two categories a later session might add: one marking jobs Q1 still counts, one taking them out of it
SKIPPED = Category("skipped", "succeeded", "(result->>'skipped') = 'true'", rest=("result->>skipped", "true"),
                   jobs="skipped_jobs", note="{n} skipped (ran no tests)", heading="Skipped: ran no tests",
                   warns="{n} skipped: ran no tests")
CANCELLED = Category("cancelled", "failed", "(result->>'cancelled') = 'true'", apart=True, jobs="cancelled_jobs",
                     note="{n} cancelled, not counted", summary="cancelled (not in Q1): {n}",
                     heading="Cancelled (not counted in Q1)")


def _insert(conn, status: str, error: str | None, result: dict, hours_ago: float) -> int:
    finished = NOW - timedelta(hours=hours_ago)
    row = conn.execute(
        "INSERT INTO jobs (type, executor_id, status, payload, created_at, started_at, finished_at, error, result)"
        " VALUES ('code.build.test', 'cogo-work', %s, '{\"command\": \"npm test\", \"target\": \"cart\"}', %s, %s, %s,"
        " %s, %s) RETURNING id",
        (status, finished, finished, finished, error, json.dumps(result)),
    ).fetchone()
    return row["id"]


def _seed(conn, rows: dict[str, tuple]) -> dict[str, int]:
    ids = {name: _insert(conn, *row, hours_ago=n + 1) for n, (name, row) in enumerate(rows.items())}
    conn.commit()
    return ids


def _expected() -> dict[str, int]:
    """Each category's count over one row per category: a base one also counts the rows of the
    categories marking its jobs, and none of those taken apart from it."""
    expected = {c.name: 1 for c in categories.table()}
    for c in categories.table():
        if not c.base and not c.apart:
            expected[next(b.name for b in categories.table() if b.base and b.status == c.status)] += 1
    return expected


def _check_every_category(conn, ids: dict[str, int]) -> None:
    expected = _expected()
    outcome = run_q1_gate(conn, threshold=0.99, now=NOW)  # a failing run: its gate_fix is written
    result, fix = outcome.result, outcome.fix
    data = result.as_dict()
    stored = conn.execute("SELECT * FROM quality_runs WHERE id = %s", (result.run_id,)).fetchone()
    recorded = gate.recorded_result(stored).as_dict()
    content, markdown = fix["content"], fix["markdown"]
    for c in categories.table():
        assert getattr(result, c.name) == expected[c.name] == data[c.name], c.name
        assert recorded[c.name] == expected[c.name], c.name
        assert (stored[c.name] if c.base else stored["details"][c.name]) == expected[c.name], c.name
        if not c.base:
            assert content[c.name] == expected[c.name], c.name
        if c.jobs:
            assert ids[c.name] in [job["id"] for job in data[c.jobs]], c.name
            assert ids[c.name] in stored["details"][c.ids], c.name
            assert ids[c.name] in [job["id"] for job in content[c.jobs]], c.name
        if c.note:
            assert c.note.format(n=expected[c.name]) in result.message, c.name
        if c.summary:
            assert f"- {c.summary.format(n=expected[c.name])}\n" in markdown, c.name
        if c.heading:
            assert f"\n## {c.heading}\n" in markdown and f">{c.heading}</h2>" in _html(content), c.name
    # the keys follow the table: Q1's terms after the verdict, every other category after the query
    keys = list(data)
    assert keys[keys.index("passed") + 1:keys.index("message")] == [c.name for c in categories.table() if c.base]
    listed = [k for c in categories.table() for k in ([] if c.base else [c.name]) + ([c.jobs] if c.jobs else [])]
    assert keys[keys.index("allow_empty") + 1:keys.index("notify")] == listed


def _html(content: dict) -> str:
    from cogo_pipelines.quality.gate_fix_html import render_html

    return render_html(content, self_url="/x")


def test_every_category_in_the_table_shows_up_in_a_real_gate_run(conn):
    assert set(ROWS) == {c.name for c in categories.table()}, "a new category needs one job row in ROWS"
    _check_every_category(conn, _seed(conn, ROWS))


def test_a_category_added_to_the_table_shows_up_with_no_other_edit(conn, monkeypatch):
    monkeypatch.setattr(categories, "CATEGORIES", (*categories.CATEGORIES, SKIPPED, CANCELLED))
    ids = _seed(conn, {**ROWS, "skipped": ("succeeded", None, {"skipped": True}),
                       "cancelled": ("failed", "cancelled by the user", {"cancelled": True})})
    _check_every_category(conn, ids)

    # a skipped job counts as succeeded, a cancelled one is out of Q1 as an infrastructure failure is
    result = gate.evaluate_q1(conn, threshold=0.5, now=NOW, record=False)
    assert (result.succeeded, result.failed, result.skipped, result.cancelled) == (3, 1, 1, 1)
    assert result.score == 0.75 and result.skipped_jobs[0]["id"] == ids["skipped"]

    # a category that warns keeps a pass from being clean, in every face
    passed = run_q1_gate(conn, threshold=0.5, now=NOW)
    assert passed.result.passed and passed.fix is not None
    assert _gate_metadata(passed.result)["skipped"] == 1
    table = io.StringIO()
    Console(file=table, width=200).print(gate_table(passed.result))
    assert "(1 flaky: passed on a rerun) (1 skipped: ran no tests)" in table.getvalue()



def test_every_category_with_jobs_lists_its_own_newest_jobs(conn):
    """41 recent infrastructure failures and one older code failure: each listed category is its
    own read, so the code failure is listed (one shared read of the newest 2 × 20 failed jobs
    held only infrastructure failures: ``failed: 1`` with ``failing_jobs: []``, a gate_fix naming
    no failing job), and the infrastructure failures list their newest 20."""
    code = _insert(conn, "failed", "exited with code 1", {"log_tail": "AssertionError: expected 1 to be 2\n"}, 50)
    infra = [_insert(conn, "failed", f"command timed out after {n} s", {"timed_out": True}, 1 + n / 10)
             for n in range(41)]
    flaky = _insert(conn, "succeeded", None, {"flaky": True, "exit_code": 0}, 60)
    conn.commit()
    result = gate.evaluate_q1(conn, threshold=0.9, now=NOW, record=False)
    assert (result.succeeded, result.failed, result.infra_failed, result.flaky) == (1, 1, 41, 1)
    assert [job["id"] for job in result.failing_jobs] == [code]
    assert "AssertionError" in result.failing_jobs[0]["log_tail"]
    assert [job["id"] for job in result.infra_jobs] == infra[:20]  # newest first
    assert [job["id"] for job in result.flaky_jobs] == [flaky]
    fix = run_q1_gate(conn, threshold=0.9, now=NOW).fix
    assert [job["id"] for job in fix["content"]["failing_jobs"]] == [code]
