"""Runtime merge on a real profile of the sample smoke, mapped against real tree-sitter symbols."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cogo_pipelines.indexing import runtime, typescript

FIXTURES = Path(__file__).parent / "fixtures"
PROFILE = FIXTURES / "cogo-sample-smoke.cpuprofile"
SMOKE_CLOSURE = [
    "src/scripts/smoke.ts",
    "src/core/quality.ts",
    "src/core/router.ts",
    "src/core/lease.ts",
    "src/shared/retry.ts",
    "src/index.ts",
    "src/shared/index.ts",
    "src/servers/metrics/index.ts",
]


def sid(path: str, name: str) -> str:
    return f"{path}#{name}"


@pytest.fixture(scope="module")
def index(sample_repo: Path) -> runtime.SymbolIndex:
    spans = []
    for path in SMOKE_CLOSURE:
        extraction = typescript.extract_file(path, (sample_repo / path).read_bytes())
        spans += [
            runtime.SymbolSpan(
                sid(path, s.qualified_name), path, s.qualified_name, s.start_line, s.end_line, s.kind
            )
            for s in extraction.symbols
        ]
    return runtime.SymbolIndex(spans)


@pytest.fixture(scope="module")
def sample_repo() -> Path:
    return Path(__file__).resolve().parents[2] / "examples" / "cogo-sample"


def test_committed_profile_maps_to_the_real_ts_symbols(index):
    trace = runtime.load_traces([PROFILE], index)
    assert trace.warnings == []
    assert trace.sources == [PROFILE.name]
    runner = sid("src/scripts/smoke.ts", "runSmoke")
    for callee in [
        ("src/core/quality.ts", "computeQ1"),
        ("src/core/router.ts", "selectExecutor"),
        ("src/core/lease.ts", "computeLeaseExpiry"),
        ("src/shared/retry.ts", "backoffDelay"),
    ]:
        assert trace.edges[(runner, sid(*callee))] > 0, callee
        assert trace.counts[sid(*callee)] > 0
    chain = [sid("src/core/router.ts", n) for n in ("selectExecutor", "matchesTaskType", "globToRegExp")]
    assert trace.edges[(chain[0], chain[1])] > 0 and trace.edges[(chain[1], chain[2])] > 0
    # counts are inclusive: a caller has at least the samples of any of its callees
    assert trace.counts[runner] >= trace.counts[chain[0]] >= trace.counts[chain[1]]
    # top-level module code has no symbol: reported, not silently dropped
    assert any(k.startswith("src/scripts/smoke.ts:") for k in trace.unknown)


def test_prefix_map_and_suffix_resolution(index):
    assert index.resolve_path("file:///tmp/x/tree/src/core/lease.js?run=3") == "src/core/lease.ts"
    assert index.resolve_path("file:///ci/checkout/src/index.ts") == "src/index.ts"
    # 'index.ts' alone names three files: ambiguous, so unknown rather than a guess
    assert index.resolve_path("file:///elsewhere/index.js") is None
    assert index.resolve_path("node:internal/modules/run_main") is None
    assert index.resolve_path("/build/out/core/lease.js", {"/build/out/": "src/"}) == "src/core/lease.ts"


def test_profile_of_another_codebase_is_a_warning(index, tmp_path):
    foreign = {
        "nodes": [
            {"id": 1, "callFrame": {"functionName": "(root)", "url": "", "lineNumber": -1}, "children": [2]},
            {
                "id": 2,
                "callFrame": {
                    "functionName": "main",
                    "url": "file:///home/u/other/app/server.js",
                    "lineNumber": 3,
                },
                "hitCount": 5,
                "children": [3],
            },
            {
                "id": 3,
                "callFrame": {
                    "functionName": "handle",
                    "url": "file:///home/u/other/app/db.js",
                    "lineNumber": 9,
                },
                "hitCount": 7,
            },
        ],
        "samples": [2, 3, 3],
        "timeDeltas": [1, 1, 1],
    }
    file = tmp_path / "other.cpuprofile"
    file.write_text(json.dumps(foreign))
    trace = runtime.load_traces([file], index)
    assert not trace.edges and not trace.counts
    assert "another codebase" in trace.warnings[0]
    assert trace.unknown_total == 2


def test_same_file_names_but_wrong_functions_is_ignored(index, tmp_path):
    """A different project that also has src/core/lease.ts: lines land on symbols, names do not agree."""
    frames = [
        {"id": 1, "callFrame": {"functionName": "(root)", "url": "", "lineNumber": -1}, "children": [2]},
        {
            "id": 2,
            "callFrame": {
                "functionName": "openSocket",
                "url": "file:///x/src/core/lease.js",
                "lineNumber": 13,
            },
            "hitCount": 3,
            "children": [3],
        },
        {
            "id": 3,
            "callFrame": {
                "functionName": "closeSocket",
                "url": "file:///x/src/core/lease.js",
                "lineNumber": 24,
            },
            "hitCount": 3,
        },
    ]
    file = tmp_path / "lookalike.cpuprofile"
    file.write_text(json.dumps({"nodes": frames, "samples": [2, 3]}))
    trace = runtime.load_traces([file], index)
    assert not trace.edges and "named frames match" in trace.warnings[0]


def test_non_json_trace_is_a_warning_and_the_rest_still_counts(index, tmp_path):
    (tmp_path / "broken.cpuprofile").write_text("this is not json {")
    (tmp_path / "calls.jsonl").write_text(
        '{"caller": "src/scripts/smoke.ts:runSmoke", "callee": "src/core/lease.ts:computeLeaseExpiry", "count": 4}\n'
        "garbage line\n"
        '{"caller": "src/core/router.ts:routeTask", "callee": "src/nowhere.ts:ghost", "count": 2}\n'
    )
    trace = runtime.load_traces(runtime.trace_files(tmp_path), index)
    assert any("broken.cpuprofile: not JSON" in w for w in trace.warnings)
    assert any("calls.jsonl:2" in w for w in trace.warnings)
    assert (
        trace.edges[(sid("src/scripts/smoke.ts", "runSmoke"), sid("src/core/lease.ts", "computeLeaseExpiry"))]
        == 4
    )
    assert trace.unknown["src/nowhere.ts:ghost"] == 2
    assert trace.sources == ["calls.jsonl"]


def test_enclosing_picks_the_innermost_symbol():
    index = runtime.SymbolIndex(
        [
            runtime.SymbolSpan("c", "a.ts", "JobQueue", 1, 30, "class"),
            runtime.SymbolSpan("m", "a.ts", "JobQueue.claim", 5, 12, "method"),
            runtime.SymbolSpan("f", "a.ts", "helper", 32, 34, "function"),
        ]
    )
    assert index.enclosing("a.ts", 6).id == "m"
    assert index.enclosing("a.ts", 20).id == "c"
    assert index.enclosing("a.ts", 31) is None
    assert index.enclosing("b.ts", 1) is None


def _frame(line: int) -> dict:
    return {"url": "file:///srv/app/src/core/router.ts", "lineNumber": line, "functionName": ""}


@pytest.mark.timeout(60)
def test_hostile_traces_are_warnings_and_the_rest_still_counts(index, tmp_path):
    """A trace folder is input from outside: a profile whose nodes are each other's children
    walked up its parent chain for ever, one nested thousands deep ended in a RecursionError,
    fields of the wrong type in a TypeError, a pipe named ``x.jsonl`` blocked the read; each is
    now a warning, and the good profile beside them still counts."""
    cyclic = {"nodes": [{"id": 1, "callFrame": _frame(5), "children": [2], "hitCount": 3},
                        {"id": 2, "callFrame": _frame(20), "children": [1], "hitCount": 2}]}
    (tmp_path / "cyclic.cpuprofile").write_text(json.dumps(cyclic))
    (tmp_path / "deep.cpuprofile").write_text('{"nodes": ' + "[" * 5_000 + "]" * 5_000 + "}")
    wrong = {"nodes": [{"id": [1], "callFrame": "x", "children": 7}, {"id": 2, "callFrame": {"lineNumber": "x"}},
                       {"id": 3, "callFrame": _frame(5), "children": [[4]], "hitCount": "many"}]}
    (tmp_path / "wrong.cpuprofile").write_text(json.dumps(wrong))
    (tmp_path / "lines.jsonl").write_text('[' * 5_000 + "\n" + '{"caller": [], "callee": {}, "count": "x"}\n')
    import os

    os.mkfifo(tmp_path / "pipe.jsonl")
    files = sorted(tmp_path.iterdir()) + [PROFILE]
    trace = runtime.load_traces(files, index)
    assert trace.sources == [PROFILE.name]  # the good one counted
    warned = " ".join(trace.warnings)
    for name in ("cyclic.cpuprofile", "deep.cpuprofile", "wrong.cpuprofile", "lines.jsonl", "pipe.jsonl"):
        assert name in warned, name
    runner = sid("src/scripts/smoke.ts", "runSmoke")
    assert trace.edges[(runner, sid("src/core/router.ts", "selectExecutor"))] > 0
