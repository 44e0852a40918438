"""`cogo search` text for people: paths with bracketed segments survive (they are not rich
markup), each hit is path:lines, symbol · kind, the score on its own line and a few snippet lines."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from cogo_pipelines.commands.search_text import print_hits
from cogo_pipelines.store.knowledge import SearchHit

COGO = [sys.executable, "-c", "from cogo_pipelines.cli import main; main()"]
ROUTE = "src/app/api/users/[userId]/route.ts"
ROUTE_SOURCE = """/** Loads one user by the id in the route's path segment. */
export async function GET(request: Request, context: { params: { userId: string } }): Promise<Response> {
  const user = await findUser(context.params.userId);
  if (!user) return new Response('not found', { status: 404 });
  return Response.json(user);
}

export async function findUser(userId: string): Promise<{ id: string } | null> {
  return userId ? { id: userId } : null;
}
"""


def cogo(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*COGO, *args], capture_output=True, text=True, timeout=120, check=False,
                          env=os.environ.copy())


def test_search_text_keeps_bracketed_path_segments(database_url, tmp_path: Path):
    repo = tmp_path / "next-app"
    (repo / ROUTE).parent.mkdir(parents=True)
    (repo / ROUTE).write_text(ROUTE_SOURCE)
    assert cogo("index", str(repo), "--no-embed").returncode == 0
    found = cogo("search", "user route GET", "--k", "2")
    assert found.returncode == 0, found.stderr
    lines = found.stdout.splitlines()
    assert f" 1. {ROUTE}:1-6" in lines and f" 2. {ROUTE}:8-10" in lines, found.stdout
    assert "users//route" not in found.stdout
    assert "    GET · function" in lines and "    findUser · function" in lines
    assert sum(bool(re.fullmatch(r"    score \d+\.\d{3}", line)) for line in lines) == 2
    assert "    │ export async function GET(request: Request, context: { params: { userId: string } }): " \
           "Promise<Response> {" in lines  # whole in a pipe, the doc comment left out
    assert not any("Loads one user" in line for line in lines)


def test_search_text_in_a_narrow_terminal_cuts_lines_and_keeps_markup_out():
    hit = SearchHit(ROUTE, "GET", "code", 1, 6, 0.8123, ROUTE_SOURCE.split("\n\n")[0], repo="web", kind="function")
    out = io.StringIO()
    print_hits([hit], "GET user", several=True, console=Console(file=out, force_terminal=True, width=48,
                                                                  color_system=None))
    lines = out.getvalue().splitlines()
    assert lines[0].startswith(" 1. web:src/app/api/users/[userId]/route")
    assert lines[1:3] == ["    GET · function", "    score 0.812"]
    assert all(len(line) <= 48 for line in lines) and lines[3].endswith("…")
