import json
from pathlib import Path

from cogo_pipelines import settings
from cogo_pipelines.quality.gate import evaluate_q1
from cogo_pipelines.quality.gate_fix import (
    error_excerpt,
    get_gate_fix,
    latest_gate_fix,
    search_text,
    write_gate_fix,
)
from cogo_pipelines_tests.quality.helpers import TS_ERROR, seed_jobs


def _index_sample(conn, sample_repo):
    from cogo_pipelines.pipeline.index_run import run_index

    run_index(conn, sample_repo, embed=False)
    conn.commit()


def test_empty_knowledge_store_is_reported_not_fatal(conn, database_url, tmp_path):
    failed = seed_jobs(database_url, succeeded=1, failed=2)[1:]
    result = evaluate_q1(conn)
    fix = write_gate_fix(conn, result)
    home = Path(settings.get_settings().cogo_home)
    assert fix["json_path"] == str(home / "artifacts" / "gate_fix" / f"{fix['id']}.json")
    content = json.loads(Path(fix["json_path"]).read_text())
    assert content["knowledge"]["status"] == "empty"
    assert "knowledge store is empty" in content["knowledge"]["note"]
    assert [job["id"] for job in content["failing_jobs"]] == sorted(failed, reverse=True)
    assert all(job["locations"] == [] for job in content["failing_jobs"])
    markdown = Path(fix["markdown_path"]).read_text()
    assert "knowledge store is empty" in markdown and "AssertionError: expected 2 to equal 1" in markdown
    row = conn.execute("SELECT quality_run_id, content FROM gate_fixes WHERE id = %s", (fix["id"],)).fetchone()
    assert row["quality_run_id"] == result.run_id and row["content"]["id"] == fix["id"]


def test_failing_jobs_get_code_locations(conn, database_url, sample_repo):
    _index_sample(conn, sample_repo)
    seed_jobs(database_url, succeeded=1, failed=3)
    result = evaluate_q1(conn)
    fix = write_gate_fix(conn, result, k=5)
    content = fix["content"]
    assert content["knowledge"]["status"] == "ok"
    assert len(content["failing_jobs"]) == 3
    job = content["failing_jobs"][0]
    assert "renewLease" in job["error_excerpt"] and job["command"] == "npm test"
    assert 1 <= len(job["locations"]) <= 5
    found = {(loc["path"], loc["symbol"]) for loc in job["locations"]}
    assert ("src/core/lease.ts", "renewLease") in found  # the function the error names
    assert all(loc["start_line"] <= loc["end_line"] and loc["score"] > 0 for loc in job["locations"])
    assert [j["same_error_as"] for j in content["failing_jobs"]] == [None, job["id"], job["id"]]
    markdown = Path(fix["markdown_path"]).read_text()
    assert "| `src/core/lease.ts` | renewLease |" in markdown
    assert markdown.count("| # | path |") == 1 and f"Same error as job {job['id']}" in markdown


def test_lookup_functions_and_url(conn, database_url, monkeypatch):
    assert latest_gate_fix(conn) is None
    seed_jobs(database_url, failed=1)
    first = write_gate_fix(conn, evaluate_q1(conn))
    second = write_gate_fix(conn, evaluate_q1(conn))
    assert latest_gate_fix(conn)["id"] == second["id"]
    fetched = get_gate_fix(conn, first["id"])
    assert fetched["content"]["failing_jobs"][0]["error_excerpt"] == first["content"]["failing_jobs"][0]["error_excerpt"]
    assert fetched["url"] == f"http://127.0.0.1:3100/api/gate-fix/{first['id']}"
    assert get_gate_fix(conn, 999999) is None
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://ops.example.com/")
    settings.reload_settings()
    assert latest_gate_fix(conn)["url"] == f"https://ops.example.com/api/gate-fix/{second['id']}"


def test_empty_window_failure_still_writes_an_artifact(conn):
    result = evaluate_q1(conn)
    fix = write_gate_fix(conn, result)
    assert fix["content"]["failing_jobs"] == []
    assert fix["content"]["knowledge"]["status"] == "skipped"
    assert "No failing jobs to list: no quality jobs finished" in fix["markdown"]


def test_secrets_never_reach_the_artifact(conn, database_url, monkeypatch):
    secret = "sb-service-role-super-secret-1234567890"
    monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", secret)
    settings.reload_settings()
    seed_jobs(database_url, failed=1,
              error=f"connect postgres://cogo:hunter2pass@db:5432/x failed\nauth {secret} rejected\nError: boom")
    fix = write_gate_fix(conn, evaluate_q1(conn))
    for text in (Path(fix["json_path"]).read_text(), Path(fix["markdown_path"]).read_text()):
        assert secret not in text and "hunter2pass" not in text
        assert "postgres://cogo:***@db:5432/x" in text


def test_excerpt_and_search_text():
    long_error = "\n".join(f"line {i}" for i in range(100)) + "\n" + TS_ERROR
    excerpt = error_excerpt(long_error)
    assert excerpt.endswith("renewLease") and "line 0\n" not in excerpt
    query = search_text(excerpt)
    assert "AssertionError" in query and "line 80" not in query
    assert error_excerpt(None) == ""


def test_a_stored_artifact_missing_fields_still_renders(conn):
    """Rows written by older versions or by hand lack fields; reading them must not fail."""
    fix_id = conn.execute(
        "INSERT INTO gate_fixes (content) VALUES (%s) RETURNING id",
        ('{"message": "partial", "failing_jobs": [{"id": 7, "error_excerpt": "boom"}]}',),
    ).fetchone()["id"]
    fix = get_gate_fix(conn, fix_id)
    assert fix["markdown"].startswith("# gate_fix : Q1 n/a (threshold n/a)")
    assert "partial" in fix["markdown"] and "boom" in fix["markdown"]
    assert "Same error as job" not in fix["markdown"]


def test_url_passwords_are_hidden_in_linear_time():
    """A job's log is outside input: the URL-password pattern scanned each ``x://y:`` on to the
    next ``@`` or blank, so 200 kB of them without an ``@`` took seconds (quadratic); it now runs
    only on the words that can hold a password, and still hides those."""
    import time

    from cogo_pipelines.quality.gate_fix import scrub

    hostile = "a://b:" * 35_000 + " mail me at x@y.z " + "c://d:" * 35_000
    started = time.perf_counter()
    assert scrub(hostile) == hostile
    assert time.perf_counter() - started < 1.0
    assert scrub("git clone https://bot:s3cret@github.com/x.git\tand postgres://u:p@db:5432/q") == \
        "git clone https://bot:***@github.com/x.git\tand postgres://u:***@db:5432/q"


def test_a_failure_no_parser_reads_shows_the_logs_end_and_alerts_once(conn, database_url, sample_repo):
    """A command not found or a missing npm script: the excerpt was the job's own error line
    ("exited with code 127 (log: …/8.log)"), the log's one useful line lost; search of those words
    listed unrelated code as the place to fix; and the signature held the job's log path, so the
    same breakage alerted at every gate run."""
    from cogo_pipelines.quality.gate_fix import build_content

    _index_sample(conn, sample_repo)

    def failed_runs(numbers):
        conn.execute("DELETE FROM jobs")
        for n in numbers:
            conn.execute(
                "INSERT INTO jobs (type, executor_id, status, payload, result, created_at, started_at, finished_at,"
                " error) VALUES ('code.build.test', 'cogo-work', 'failed', '{\"command\": \"nosuchcmd --flag\"}', %s,"
                " now() - interval '1 hour', now() - interval '1 hour', now() - interval '50 minutes', %s)",
                (json.dumps({"exit_code": 127, "log_tail": "building…\n/bin/sh: 1: nosuchcmd: not found\n"}),
                 f"command exited with code 127 (log: /home/dev/.cogo/artifacts/jobs/{n}.log)"))
        conn.commit()
        return build_content(evaluate_q1(conn), conn)

    content = failed_runs((8, 9))
    job = content["failing_jobs"][0]
    assert "nosuchcmd: not found" in job["error_excerpt"]
    assert job["locations"] == [] and "names no failing test" in job["locations_note"]
    assert failed_runs((10, 11))["signature"] == content["signature"]  # the same breakage, run again
    conn.execute("UPDATE jobs SET result = jsonb_set(result, '{log_tail}', '\"/bin/sh: 1: other: not found\"')")
    conn.commit()
    assert build_content(evaluate_q1(conn), conn)["signature"] != content["signature"]


def test_build_text_cannot_break_out_of_the_artifacts_markdown():
    """A log line of three backticks closed the excerpt's fence (a heading and links after it
    rendered as the artifact's own); test names went in raw (`**`, `<script>`); colour codes stayed
    in the excerpt (cut mid-sequence: `93m49[0m`); and 10,000 failing tests read as the 40 the
    log tail held."""
    from cogo_pipelines.quality.gate_fix import render_markdown

    excerpt = error_excerpt("\x1b[93m49\x1b[0m error TS2322\n```\n# Injected heading: all tests passed\n"
                            "\x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\")
    assert "\x1b" not in excerpt and excerpt.startswith("49 error TS2322")
    job = {"id": 5, "type": "code.build.test", "executor_id": "cogo-work", "error_excerpt": excerpt,
           "failures": [{"kind": "test", "name": "**approve** <script>x()</script>", "file": "src/a`b.ts", "line": 3,
                         "message": "[Approve deploy](https://evil.example)"}] * 40,
           "failures_total": 10000, "log_cut": 65536, "parsers": ["tap"], "locations": [], "command": "npm `x` test"}
    markdown = render_markdown({"id": 1, "score": 0.1, "threshold": 0.7, "message": "FAIL", "failing_jobs": [job],
                                "knowledge": {"note": "ok"}})
    fence = "````"  # longer than the excerpt's own ``` line
    assert f"{fence}text\n49 error TS2322\n```\n# Injected heading" in markdown and markdown.count(fence) == 2
    assert "\\*\\*approve\\*\\* \\<script\\>x\\(\\)\\</script\\>" in markdown and "<script>" not in markdown
    assert "\\[Approve deploy\\]\\(https://evil.example\\)" in markdown
    assert "40 listed of 10000 the build reported" in markdown and "log's last 65536 characters" in markdown
    assert "`` npm `x` test ``" in markdown and "`` src/a`b.ts:3 ``" in markdown


# A repo where the failure's only clue is its message: the test ran against a bundle (no frame in
# the indexed code), its title names nothing, and the words of the message are names elsewhere.
LITERAL_REPO = {
    "src/index.ts": 'export { renewCredentials } from "./auth/refresh";\n',
    "src/auth/refresh.ts": '''import { tokenExpiry } from "./tokenExpiry";

export interface Credentials { token: string; exp: number }

export function renewCredentials(current: Credentials, now: number): Credentials {
  const left = tokenExpiry(current, now);
  if (!Number.isFinite(left) || left > 86400) {
    throw new Error("invalid token expiry");
  }
  return { ...current, exp: now + 3600 };
}
''',
    "src/auth/refresh.test.ts": '''import { renewCredentials } from "./refresh";

it("refuses a token that never expires", () => {
  expect(() => renewCredentials({ token: "t", exp: Infinity }, 0)).toThrow("invalid token expiry");
});
''',
    "src/auth/tokenExpiry.ts": '''/** Seconds until a token expires; negative once it is invalid. */
export function tokenExpiry(token: { exp: number }, now: number): number {
  return token.exp - now;
}

export function isTokenExpiryValid(token: { exp: number }, now: number): boolean {
  return tokenExpiry(token, now) > 0;
}
''',
    "src/errors/invalid.ts": '''export class InvalidTokenError extends Error {}
export function invalidToken(reason: string): InvalidTokenError {
  return new InvalidTokenError(`token rejected: ${reason}`);
}
''',
}
BUNDLE_LOG = """> vitest run
 FAIL  tests/account.test.ts > account page > shows the plan
Error: invalid token expiry
 ❯ Object.<anonymous> dist/bundle.js:812:13
 Test Files  1 failed (1)
      Tests  1 failed (1)
"""


def test_a_failure_whose_only_clue_is_its_message_points_to_the_code_that_throws_it(conn, database_url, tmp_path):
    """Knowledge search split "invalid token expiry" into words and ranked the names that hold them
    (InvalidTokenError, invalidToken, tokenExpiry) above renewCredentials, 4th; the code holding the
    message verbatim is now first, its test's copy of the message below it."""
    from cogo_pipelines.pipeline.index_run import run_index

    repo = tmp_path / "authapp"
    for path, text in LITERAL_REPO.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    run_index(conn, repo, embed=False)
    conn.commit()
    seed_jobs(database_url, failed=1, error=BUNDLE_LOG, target="authapp")
    job = write_gate_fix(conn, evaluate_q1(conn))["content"]["failing_jobs"][0]
    first = job["locations"][0]
    assert (first["path"], first["symbol"], first["source"]) == ("src/auth/refresh.ts", "renewCredentials", "literal")
    assert first["why"] == ("holds the text “invalid token expiry” of “account page › shows the plan” "
                            "at src/auth/refresh.ts:8")
    copy = next(loc for loc in job["locations"] if loc["path"] == "src/auth/refresh.test.ts")
    assert copy["source"] == "literal" and copy["score"] == first["score"] / 2


def test_message_literals_are_quoted_strings_and_error_texts_with_their_template_pieces():
    from cogo_pipelines.quality.build_failures import Failure
    from cogo_pipelines.quality.locate import message_literals

    thrown = Failure("test", "auth › renew", message="TypeError [ERR_AUTH]: session expired at 1712: token 'abc' unknown")
    assert message_literals(thrown) == ["session expired at 1712: token 'abc' unknown", "session expired at"]
    jest = Failure("test", "x", message='expect(received).toThrow(expected)\nExpected substring: "invalid token '
                   'expiry"\nReceived message:   "token expiry out of range"')
    assert message_literals(jest) == ["invalid token expiry", "token expiry out of range"]
    # one word, or fewer than 8 characters: held by unrelated code
    assert message_literals(Failure("test", "y", message="Error: boom\nexpected 'ok' to be 'no'")) == []
