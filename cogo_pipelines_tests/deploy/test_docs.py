"""The operations docs say only what is true: their runnable blocks run, their commands, options,
make targets, Dagster jobs, compose services, endpoints and metric names exist."""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import time

import httpx
import psycopg
import pytest
import typer.main

from cogo_pipelines.cli import app as cogo_app
from cogo_pipelines_tests.deploy.helpers import REPO_ROOT, SERVER_COMPOSE, VENV_BIN, load_compose

DOCS_DIR = REPO_ROOT / "docs"
DOCS = ["README.md", "README_BETA_OPS.md", "OPERATIONS_RUNBOOK.md", "API_METRICS_AND_NOTIFY.md", "RAG.md",
        "INDEX_YOUR_REPO.md", "ARCHITECTURE.md", "DEVELOPMENT_EXECUTION_PLAN_VNEXT.md", "MCP.md"]
# Every markdown page a user reads, relative to the repository root (the docs above, the README,
# the benchmarks' README): no link outside the repository, make targets and bench commands exist.
ALL_PAGES = ["README.md", "bench/README.md", *(f"docs/{name}" for name in DOCS)]
FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[\w-]*)\n(?P<body>.*?)^(?P=indent)```", re.DOTALL | re.MULTILINE)
RUNNABLE = re.compile(r"<!-- runnable -->\s*\n[ \t]*```bash\n(?P<body>.*?)^[ \t]*```", re.DOTALL | re.MULTILINE)
INLINE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
# A code span followed by "(new)" names what a plan will create: not checked against the code.
PLANNED = re.compile(r"\s*\(new\)")


def _text(name: str) -> str:
    return (DOCS_DIR / name).read_text()


def _spans(text: str) -> list[str]:
    """Inline code spans outside fenced blocks, except those marked "(new)"."""
    text = FENCE.sub("", text)
    return [m.group(1) for m in INLINE.finditer(text) if not PLANNED.match(text, m.end())]


def _fenced(lang: str) -> list[tuple[str, str]]:
    return [(name, m["body"]) for name in DOCS for m in FENCE.finditer(_text(name)) if m["lang"] == lang]


def _runnable_blocks() -> list[tuple[str, str]]:
    found = []
    for name in DOCS:
        text = _text(name)
        for m in RUNNABLE.finditer(text):
            line = text[: m.start()].count("\n") + 1
            body = "\n".join(part.strip() for part in m["body"].splitlines())
            found.append((f"{name}:{line}", body))
    return found


def _shell_lines() -> list[str]:
    """Command lines of bash blocks and inline code spans, continuation lines joined."""
    lines = []
    for _, body in _fenced("bash"):
        lines += re.sub(r"\\\n\s*", " ", body).splitlines()
    for name in DOCS:
        lines += _spans(_text(name))
    return [line.strip() for line in lines if line.strip()]


def _cogo_invocations() -> list[list[str]]:
    """Every `cogo ...` written as a command: at the start, after a path, or after `exec <service>`."""
    found = []
    for line in _shell_lines():
        for segment in re.split(r"\s*(?:\||&&|;|\$\()\s*", line):
            match = re.match(r"^(?:[A-Z_]+=\S+\s+)*(?:\S*/)?cogo\s+(.*)$", segment) or re.search(
                r"\bexec\s+(?:-it\s+)?[\w-]+\s+cogo\s+(.*)$", segment)
            if match:
                found.append(match.group(1))
    invocations = []
    for rest in found:
        cleaned = re.sub(r"[\[\]]", " ", rest).replace("...", " ")
        try:
            invocations.append(shlex.split(cleaned))
        except ValueError:
            invocations.append(cleaned.split())
    return invocations


def test_docs_index_links_every_doc_and_links_resolve():
    index = _text("README.md")
    for name in DOCS[1:]:
        assert f"]({name})" in index, name
    for name in DOCS:
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", _text(name)):
            if not target.startswith("http"):
                assert (DOCS_DIR / target).resolve().exists(), f"{name}: broken link {target}"


def test_beta_ops_has_a_mermaid_diagram_of_the_compose_services():
    mermaid = [body for name, body in _fenced("mermaid") if name == "README_BETA_OPS.md"]
    assert mermaid and mermaid[0].lstrip().startswith("flowchart")
    for service in load_compose(SERVER_COMPOSE)["services"]:
        assert service in mermaid[0], f"the diagram lacks {service}"
    assert "work-runner" in mermaid[0]


def test_every_documented_cogo_command_and_option_exists():
    root = typer.main.get_command(cogo_app)
    invocations = _cogo_invocations()
    assert len(invocations) >= 25, "the command extraction found too little to mean anything"
    checked = set()
    for args in invocations:
        command, path = root, ["cogo"]
        words = list(args)
        # typer ships its own click fork: walk groups by their `commands` mapping, not by class.
        while hasattr(command, "commands") and words and not words[0].startswith("-"):
            sub = command.commands.get(words[0])
            assert sub is not None, f"`{' '.join(path + words)}`: no command {words[0]!r} under `{' '.join(path)}`"
            command, path = sub, path + [words.pop(0)]
        if "--help" in words:
            checked.add(" ".join(path))
            continue
        assert not hasattr(command, "commands"), f"`{' '.join(path)}` is a group, not a command ({args})"
        known = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
        for word in words:
            if word.startswith("--"):
                option = word.split("=", 1)[0]
                assert option in known, f"`{' '.join(path)}` has no option {option} (documented: {args})"
        checked.add(" ".join(path))
    for expected in ("cogo index", "cogo graph", "cogo search", "cogo gate q1", "cogo jobs enqueue",
                     "cogo jobs list", "cogo runner", "cogo serve", "cogo snapshot", "cogo notify weekly",
                     "cogo vault set", "cogo vault list"):
        assert expected in checked, f"the docs never show {expected}"


def test_documented_make_targets_dagster_jobs_and_compose_services_exist():
    makefile = (REPO_ROOT / "Makefile").read_text()
    defs_source = "\n".join(p.read_text() for p in (REPO_ROOT / "cogo_pipelines" / "defs").rglob("*.py"))
    services = set(load_compose(SERVER_COMPOSE)["services"])
    all_text = "\n".join((REPO_ROOT / page).read_text() for page in ALL_PAGES)
    for target in set(re.findall(r"\bmake ([a-z][\w-]*)", all_text)):
        assert re.search(rf"^{re.escape(target)}:", makefile, re.MULTILINE), f"make {target}"
    # Dagster names: the `*_job`/`*_schedule`/`*_sensor` words in code spans (not SQL or Python names).
    spans = " ".join(INLINE.findall(all_text))
    for name in set(re.findall(r"\b([a-z][a-z0-9_]*_(?:job|schedule|sensor))\b", spans)):
        assert re.search(rf"\b{name}\b", defs_source), f"{name} is not defined in cogo_pipelines/defs"
    for service in re.findall(r"dc-server (?:exec|logs|up -d)(?: -it| -f| --since \S+)* ([a-z][\w-]*)", all_text):
        assert service in services, f"no compose service {service}"


def test_documented_endpoints_are_exactly_the_sidecar_routes():
    from cogo_pipelines.server.app import create_app

    routes = {(method, route.path) for route in create_app().routes
              for method in (route.methods or []) if method != "HEAD"}
    table = _text("API_METRICS_AND_NOTIFY.md").split("## Metrics")[0]
    documented = {(m, p) for m, p in re.findall(r"^\| `(GET|POST) (/[^\s`?]*)", table, re.MULTILINE)}
    assert documented == routes, (f"undocumented: {sorted(routes - documented)}; "
                                  f"not served: {sorted(documented - routes)}")


@pytest.mark.parametrize("where,body", _runnable_blocks(), ids=[w for w, _ in _runnable_blocks()])
def test_runnable_block_runs(where, body, database_url, tmp_path):
    env = {**os.environ, "DATABASE_URL": database_url, "COGO_HOME": str(tmp_path / "cogo_home"),
           "PATH": f"{VENV_BIN}:{os.environ['PATH']}", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    for secret in ("SUPABASE_SERVICE_ROLE_KEY", "VAULT_MASTER_KEY", "NOTIFY_WEBHOOK_URL", "ROUTER_SELECT_URL"):
        env.pop(secret, None)
    done = subprocess.run(["bash", "-e", "-c", body], cwd=REPO_ROOT, env=env, check=False, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, f"{where} failed:\n{body}\n--- stdout\n{done.stdout[-2000:]}\n--- stderr\n{done.stderr[-2000:]}"
    assert done.stdout.strip(), f"{where} printed nothing"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_documented_metrics_are_what_the_sidecar_exposes(database_url, tmp_path):
    """A real `cogo serve` on a store with a gate run, a finished job and an index run."""
    env = {**os.environ, "DATABASE_URL": database_url, "COGO_HOME": str(tmp_path / "home"),
           "PATH": f"{VENV_BIN}:{os.environ['PATH']}"}
    seed = ("cogo gate q1 --allow-empty >/dev/null; cogo jobs enqueue noop --executor-id cogo-work >/dev/null;"
            " cogo runner --executor-id cogo-work --once 2>/dev/null;"
            " cogo index examples/cogo-sample --no-embed --json >/dev/null")
    subprocess.run(["bash", "-e", "-c", seed], cwd=REPO_ROOT, env=env, check=True, timeout=300)
    port = _free_port()
    server = subprocess.Popen([str(VENV_BIN / "cogo"), "serve", "--port", str(port), "--no-access-log"],
                              cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None, "cogo serve did not start"
                time.sleep(0.3)
        body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    finally:
        server.terminate()
        server.wait(15)
    exposed = set(re.findall(r"^# TYPE (\S+) ", body, re.MULTILINE))
    exposed |= {f"{name}_total" for name in exposed}
    section = _text("API_METRICS_AND_NOTIFY.md").split("## Metrics")[1].split("## Notifications")[0]
    documented = set(re.findall(r"^\| `(cogo_[a-z0-9_]+)`", section, re.MULTILINE))
    assert documented, "no metric rows found"
    with psycopg.connect(database_url) as conn:  # the seed's `cogo index` recorded its run
        assert conn.execute("SELECT count(*) FROM index_runs WHERE finished_at IS NOT NULL").fetchone()[0] == 1
    assert "cogo_index_last_duration_seconds" in documented
    assert documented <= exposed, f"documented but not exposed: {sorted(documented - exposed)}"
    # prometheus-client's own `<counter/histogram>_created` timestamps are mentioned, not tabled.
    families = {f for f in re.findall(r"^# TYPE (cogo_\S+) ", body, re.MULTILINE) if not f.endswith("_created")}
    missing = {f for f in families if f not in documented and f"{f}_total" not in documented}
    assert not missing, f"exposed but not documented: {sorted(missing)}"
    for label in ("executor_id", "status", "outcome", "repo", "route"):
        assert f'{label}="' in body, label


# ---- every page: paths, bench commands, environment variables, nothing outside the repository ----

def _page(page: str) -> str:
    return (REPO_ROOT / page).read_text()


def _page_shell_text(page: str) -> list[str]:
    """A page's bash blocks (continuation lines joined) and its inline code spans."""
    text = _page(page)
    blocks = [re.sub(r"\\\n\s*", " ", m["body"]) for m in FENCE.finditer(text) if m["lang"] in ("bash", "")]
    return blocks + _spans(text)


def test_no_page_points_outside_the_repository():
    """A user's clone has only the repository: no `../shared`, no machine paths, no link that leaves it."""
    for page in ALL_PAGES:
        text = _page(page)
        for outside in ("../shared", "/work/"):
            assert outside not in text, f"{page} points outside the repository: {outside}"
        folder = (REPO_ROOT / page).parent
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            resolved = (folder / target).resolve()
            assert resolved.is_relative_to(REPO_ROOT), f"{page}: link {target} leaves the repository"
            assert resolved.exists(), f"{page}: broken link {target}"


def test_the_readme_first_screen_says_how_to_index_and_search_your_own_repo():
    first_screen = "\n".join(_page("README.md").splitlines()[:40])
    assert "cogo index" in first_screen and "cogo search" in first_screen
    assert "](docs/INDEX_YOUR_REPO.md)" in first_screen


# Paths written in these pages are paths of this repository. Left out: INDEX_YOUR_REPO.md (its
# paths are those of the user's repository) and ARCHITECTURE.md (it names the pipeline/ layer
# that issue 23 creates). Created at run time by the benchmarks, so absent from a clone:
RUNTIME_PATHS = ("bench/node_modules", "bench/.cache")
PATH_PAGES = [p for p in ALL_PAGES if not p.endswith(("INDEX_YOUR_REPO.md", "ARCHITECTURE.md"))]
REPO_ROOTS = ("cogo_pipelines/", "cogo_pipelines_tests/", "bench/", "docs/", "docker/", "examples/", ".ci/",
              ".github/")
PACKAGE_DIRS = ("indexing/", "store/", "queue/", "quality/", "edge/", "server/", "defs/", "commands/")
ROOT_FILES = {"Makefile", "pyproject.toml", "dagster.yaml", "workspace.yaml", ".env.example", "README.md"}
PATH_TOKEN = re.compile(r"(?<![\w/.$<{-])((?:\.?[\w.-]+/)+[\w.*<>{}-]*|[\w.-]+\.(?:py|md|sh|json|ya?ml|toml|tsv|mjs))")


def _documented_paths(page: str) -> set[str]:
    found = set()
    for span in _spans(_page(page)):
        for match in PATH_TOKEN.finditer(span):
            path = match.group(1).rstrip(".")
            if path.startswith(PACKAGE_DIRS):  # `queue/capture.py` is short for the package's
                path = f"cogo_pipelines/{path}"
            if path.startswith(REPO_ROOTS) or path in ROOT_FILES:
                found.add(path)
    return found


@pytest.mark.parametrize("page", PATH_PAGES)
def test_documented_paths_exist(page):
    paths = _documented_paths(page)
    if page.endswith("DEVELOPMENT_EXECUTION_PLAN_VNEXT.md"):
        assert len(paths) >= 40, "the path extraction found too little to mean anything"
    for path in sorted(paths):
        stem = re.split(r"[*<{]", path)[0]  # a glob or a placeholder: its fixed folder must exist
        if not stem or stem.startswith(RUNTIME_PATHS):
            continue
        assert (REPO_ROOT / stem).exists(), f"{page} names {path}, which is not in the repository"


BENCH_COMMAND = re.compile(r"(?P<python>\S*python[\d.]*)\s+(?P<script>bench/[\w.-]+\.py)(?P<args>[^|;&)`]*)")


def _bench_commands() -> list[tuple[str, str, str, list[str]]]:
    """(page, interpreter, script, --options) of every `python bench/x.py ...` in the pages."""
    found = []
    for page in ALL_PAGES:
        for chunk in _page_shell_text(page):
            for m in BENCH_COMMAND.finditer(chunk):
                options = re.findall(r"(?<![\w-])(--[a-z][\w-]*)", m["args"])
                found.append((page, m["python"], m["script"], options))
    return found


def test_documented_bench_commands_and_options_exist():
    commands = _bench_commands()
    plan = [c for c in commands if c[0].endswith("DEVELOPMENT_EXECUTION_PLAN_VNEXT.md")]
    assert len(commands) >= 20 and len(plan) >= 8, "the bench command extraction found too little"
    helped: dict[str, str] = {}
    for page, python, script, options in commands:
        path = REPO_ROOT / script
        assert path.is_file(), f"{page}: {script} does not exist"
        source = path.read_text()
        for option in options:
            assert f'"{option}"' in source, f"{page}: {script} has no option {option}"
        if python == ".venv/bin/python" and script not in helped:
            # the project's own interpreter: the script must at least start and parse its arguments
            done = subprocess.run([str(VENV_BIN / "python"), script, "--help"], cwd=REPO_ROOT, check=False,
                                  capture_output=True, text=True, timeout=120,
                                  env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
            assert done.returncode == 0, f"{script} --help failed:\n{done.stderr[-2000:]}"
            helped[script] = done.stdout
        for option in options if script in helped else ():
            assert option in helped[script], f"{script} --help does not list {option}"
    for page in ALL_PAGES:
        for script in re.findall(r"\bbash\s+(bench/[\w.-]+\.sh)", "\n".join(_page_shell_text(page))):
            assert (REPO_ROOT / script).is_file(), f"{page}: {script} does not exist"


def test_every_benchmark_is_in_the_bench_readme():
    readme = _page("bench/README.md")
    for script in sorted((REPO_ROOT / "bench").iterdir()):
        is_entry = script.suffix == ".sh" or (script.suffix == ".py" and "__main__" in script.read_text())
        if is_entry:
            assert f"bench/{script.name}" in readme, f"bench/README.md does not say how to run {script.name}"


# Upper-case names in code spans that are not variables this project reads or sets:
NOT_VARIABLES = {"PATH_OR_GLOB",  # a CLI metavariable (`--entry PATH_OR_GLOB`)
                 "COMPOSE_PROJECT_NAME"}  # docker compose's own


def test_documented_environment_variables_exist():
    sources = [REPO_ROOT / ".env.example", REPO_ROOT / "Makefile", *(REPO_ROOT / "cogo_pipelines").rglob("*.py"),
               *(p for p in (REPO_ROOT / "docker").rglob("*") if p.is_file()), *(REPO_ROOT / ".github").rglob("*.yml"),
               *(REPO_ROOT / "bench").glob("*.py"), *(REPO_ROOT / "bench").glob("*.sh")]
    known = "\n".join(p.read_text(errors="replace") for p in sources)
    checked = 0
    for page in ALL_PAGES:
        for span in _spans(_page(page)):
            for name in re.findall(r"\b([A-Z][A-Z0-9]*_[A-Z0-9_]*[A-Z0-9])\b(?!\.md)", span):
                if name in NOT_VARIABLES:
                    continue
                checked += 1
                assert re.search(rf"\b{name}\b", known), f"{page}: {name} is read or set nowhere in the project"
    assert checked >= 50, "the variable extraction found too little to mean anything"
