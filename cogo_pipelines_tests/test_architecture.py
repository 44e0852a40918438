"""The layering of docs/ARCHITECTURE.md holds: the faces (CLI, Starlette, Dagster defs, MCP)
never lean on each other and sit over the application layer (``pipeline``), which sits over the
pure core (``indexing``, ``store``, ``queue``, ``quality``, ``edge``); and no face holds SQL.

The import contract lives in pyproject.toml (``[tool.importlinter]``) and is checked by
import-linter's ``lint-imports`` over the real import graph, with the few launches it names."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FACES = ("commands", "server", "defs", "mcp", "cli.py", "warm_search.py", "definitions.py")
# SQL as it is written in this code base: upper-case keywords, or a cursor's execute()
SQL = re.compile(r"\b(SELECT\b[^\n]*\bFROM|INSERT\s+INTO|DELETE\s+FROM|UPDATE\s+\w+\s+SET)\b|\.execute\(")


def test_the_import_layers_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run(
        [str(lint), "--no-cache"], check=False, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "2 kept, 0 broken" in out.stdout


def test_no_face_holds_sql():
    offenders = []
    for face in FACES:
        target = ROOT / "cogo_pipelines" / face
        for path in [target] if target.is_file() else sorted(target.rglob("*.py")):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if SQL.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "SQL belongs in cogo_pipelines/store:\n" + "\n".join(offenders)
