"""examples/profile_smoke.py records a real V8 profile whose frames land on the sample's TS symbols."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cogo_pipelines.indexing import runtime, typescript

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "cogo-sample"
SCRIPT = ROOT / "examples" / "profile_smoke.py"


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None, reason="node/npm not on PATH"
)
def test_script_records_a_profile_that_maps_to_the_ts_sources(tmp_path):
    out = tmp_path / "smoke.cpuprofile"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out), "--trim", "--runs", "10"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads(proc.stdout)
    assert summary["blanked"][0] == "src/scripts/smoke.ts" and "src/core/lease.ts" in summary["blanked"]
    profile = json.loads(out.read_text())
    assert profile["nodes"][0]["callFrame"]["functionName"] == "(root)" and len(profile["samples"]) > 100

    spans = []
    for path in summary["blanked"]:
        for s in typescript.extract_file(path, (SAMPLE / path).read_bytes()).symbols:
            spans.append(runtime.SymbolSpan(f"{path}#{s.qualified_name}", path, s.qualified_name,
                                            s.start_line, s.end_line, s.kind))  # fmt: skip
    trace = runtime.load_traces([out], runtime.SymbolIndex(spans))
    assert trace.warnings == []
    callees = {dst for (src, dst) in trace.edges if src == "src/scripts/smoke.ts#runSmoke"}
    assert {"src/core/router.ts#selectExecutor", "src/core/quality.ts#computeQ1"} <= callees
