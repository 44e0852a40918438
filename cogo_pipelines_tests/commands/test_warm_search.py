"""The warm `cogo search` (warm_search.py): real CLI processes, a real server process, a real store.

Each test has its own runtime folder (XDG_RUNTIME_DIR), so its server is its own; the server is
killed at the end. What a warm call prints must be what an in-process call prints, for any
caller's settings, and any broken server must leave the caller searching in-process."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cogo_pipelines import warm_search
from cogo_pipelines_tests.processes import alive

# the CLI, then whether psycopg was imported in this process: a warm call never imports it
REPORT = ("import atexit, sys\n"
          "atexit.register(lambda: print('psycopg imported:', 'psycopg' in sys.modules, file=sys.stderr))\n"
          "from cogo_pipelines.cli import main\nmain()")  # fmt: skip
COGO = [sys.executable, "-c", REPORT]


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "run"
    folder.mkdir(mode=0o700)
    yield folder
    for pid_file in folder.glob("cogo/*.pid"):
        try:
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
        except (ValueError, ProcessLookupError):
            pass


def cogo(runtime: Path, *args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "COGO_WARM_SEARCH": "1", **env}
    return subprocess.run([*COGO, *args], check=False, capture_output=True, text=True, timeout=120, env=environ,
                          cwd=cwd, stdin=subprocess.DEVNULL)  # fmt: skip


def split(done: subprocess.CompletedProcess) -> tuple[int, str, str, bool]:
    """(exit status, stdout, stderr without the import line, whether psycopg was imported)."""
    *lines, last = done.stderr.splitlines(keepends=True)
    assert last.startswith("psycopg imported:"), done.stderr
    return done.returncode, done.stdout, "".join(lines), last.strip().endswith("True")


def gone(pid: int, within_s: float = 30.0) -> bool:
    """Whether process ``pid`` has ended within ``within_s`` seconds."""
    deadline = time.monotonic() + within_s
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not alive(pid)


def server_pid(runtime: Path, within_s: float = 60.0) -> int:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        for pid_file in (runtime / "cogo").glob("*.pid"):
            if (text := pid_file.read_text().strip()).isdigit():
                return int(text)
        time.sleep(0.1)
    raise AssertionError("no warm server started")


@pytest.fixture
def indexed(database_url: str, sample_repo_path: Path, runtime: Path) -> str:
    done = cogo(runtime, "index", str(sample_repo_path), "--no-embed", "--json")
    assert done.returncode == 0, done.stderr
    assert not list(runtime.glob("cogo/*.sock")), "only `cogo search` leaves a server"
    return database_url


def test_the_second_search_is_answered_warm_exactly_as_in_process(indexed: str, runtime: Path, tmp_path: Path):
    cold_json = split(cogo(runtime, "search", "computeLeaseExpiry", "--k", "3", "--json"))
    assert cold_json[0] == 0 and cold_json[3], "the first call searches in its own process"
    pid = server_pid(runtime)
    warm_json = split(cogo(runtime, "search", "computeLeaseExpiry", "--k", "3", "--json"))
    assert warm_json[:3] == cold_json[:3] and not warm_json[3], "answered by the server, psycopg never imported"
    assert json.loads(warm_json[1])[0]["path"] == "src/core/lease.ts"

    off = {"COGO_WARM_SEARCH": "0"}  # the same commands in-process, for the reference output
    for args in (("search", "lease expiry", "--k", "2"), ("search", "  "), ("search", "x", "--k", "0"),
                 ("search", "lease", "--repo", "no-such-repo")):  # fmt: skip
        warm, cold = split(cogo(runtime, *args)), split(cogo(runtime, *args, **off))
        assert not warm[3] and cold[3]
        assert warm[:3] == cold[:3], args
    # another caller's settings: a home with no store, no DATABASE_URL; another working folder
    empty = tmp_path / "elsewhere"
    (empty / ".cogo").mkdir(parents=True)
    settings = {"DATABASE_URL": "", "COGO_HOME": ""}
    warm = split(cogo(runtime, "search", "lease", cwd=empty, **settings))
    cold = split(cogo(runtime, "search", "lease", cwd=empty, **settings, **off))
    assert warm[:3] == cold[:3] and warm[0] == 1 and str(empty / ".cogo") in warm[2] and not warm[3]
    # and the first caller's store again, from the same server
    assert split(cogo(runtime, "search", "computeLeaseExpiry", "--k", "3", "--json"))[:3] == cold_json[:3]
    assert server_pid(runtime) == pid and alive(pid)
    # `make stop` stops it (the cogo script's python3 and `python -m`'s python share one server)
    stopper = "from cogo_pipelines import warm_search; print(warm_search.stop())"
    environ = {**os.environ, "XDG_RUNTIME_DIR": str(runtime)}
    python3 = Path(sys.executable).with_name("python3")
    for python, expected in ((python3 if python3.exists() else Path(sys.executable), "True"), (sys.executable, "False")):
        done = subprocess.run([str(python), "-c", stopper], check=False, env=environ, capture_output=True, text=True,
                              timeout=60)
        assert done.stdout.strip() == expected, done.stderr
        gone(pid)
    assert not alive(pid) and not list((runtime / "cogo").glob("*.sock")), "stopped, its socket removed"


def test_a_warm_search_adds_the_summary_list_once_every_summary_has_its_vector(
    database_url: str, sample_repo_path: Path, runtime: Path, monkeypatch: pytest.MonkeyPatch
):
    """As the MCP server and the sidecar do: the warm process holds the summary model and ranks
    with the file summary list; a search in its own process ranks without it (the model's load
    would cost more than the search), and so does the warm one while summaries lack vectors."""
    from cogo_pipelines import settings
    from cogo_pipelines.indexing import embedding
    from cogo_pipelines.pipeline import summaries
    from cogo_pipelines.store import db, knowledge
    from cogo_pipelines_tests.plugins.knowledge import BUILD_QUESTION, GivenSummaryModel

    on = {"SUMMARY_MODEL": "minilm"}
    assert cogo(runtime, "index", str(sample_repo_path), **on).returncode == 0  # summaries left pending
    ask = ("search", BUILD_QUESTION, "--k", "8", "--json")
    split(cogo(runtime, *ask, **on))
    server_pid(runtime)
    pending = split(cogo(runtime, *ask, **on))  # no summary has its vector yet
    done = cogo(runtime, "index", str(sample_repo_path), "--summaries", "--json", **on)
    assert done.returncode == 0 and json.loads(done.stdout)["summaries_pending"] == 0, done.stderr
    warm = split(cogo(runtime, *ask, **on))
    cold = split(cogo(runtime, *ask, COGO_WARM_SEARCH="0", **on))
    assert not pending[3] and not warm[3] and cold[3] and pending[1] == cold[1]

    monkeypatch.setenv("SUMMARY_MODEL", "minilm")
    settings.reload_settings()
    key = summaries.model_key()
    vector = embedding.encode([BUILD_QUESTION], model="minilm")[0].tolist()
    with db.connect() as conn:  # the MCP server's ranking, with the question's vector given
        listed = knowledge.search(conn, BUILD_QUESTION, k=8, summary=GivenSummaryModel(key, vector))
        plain = knowledge.search(conn, BUILD_QUESTION, k=8)
    assert [(h["path"], h["score"]) for h in json.loads(warm[1])] == [(h.path, round(h.score, 6)) for h in listed]
    assert [(h["path"], h["score"]) for h in json.loads(cold[1])] == [(h.path, round(h.score, 6)) for h in plain]
    assert warm[1] != cold[1]


def in_terminal(runtime: Path, *args: str, **env: str) -> bytes:
    """What `cogo` writes to a terminal 100 columns wide (a pseudo-terminal as its stdout)."""
    leader, follower = pty.openpty()
    environ = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "COGO_WARM_SEARCH": "1", "COLUMNS": "100",
               "TERM": "xterm-256color", **env}  # fmt: skip
    with subprocess.Popen([*COGO, *args], stdout=follower, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                          env=environ) as process:  # fmt: skip
        os.close(follower)
        out = b""
        with contextlib.suppress(OSError):  # EIO once the process has closed its end
            while chunk := os.read(leader, 1 << 16):
                out += chunk
        process.wait(timeout=120)
    os.close(leader)
    return out


def test_a_terminal_gets_the_same_styled_lines_warm(indexed: str, runtime: Path):
    cold = in_terminal(runtime, "search", "lease expiry", "--k", "3", COGO_WARM_SEARCH="0")
    split(cogo(runtime, "search", "lease"))
    server_pid(runtime)
    warm = in_terminal(runtime, "search", "lease expiry", "--k", "3")
    assert b"\x1b[" in cold and b"lease" in cold, cold  # styled, as rich writes to a terminal
    assert warm == cold


def test_a_server_whose_code_changed_steps_down_and_the_call_runs_in_process(indexed: str, runtime: Path):
    split(cogo(runtime, "search", "lease"))
    pid = server_pid(runtime)
    module = Path(warm_search.__file__)
    before = module.stat()
    os.utime(module, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    try:
        code, out, _, imported = split(cogo(runtime, "search", "computeLeaseExpiry", "--json"))
    finally:
        os.utime(module, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert code == 0 and json.loads(out)[0]["path"] == "src/core/lease.ts" and imported
    assert gone(pid), "the stale server exits"
    assert server_pid(runtime) != pid, "a fresh one takes its place"


def test_a_broken_or_idle_server_never_costs_an_answer(indexed: str, runtime: Path):
    folder = runtime / "cogo"
    folder.mkdir(mode=0o700)
    path = warm_search.socket_path(folder)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(4)

    def hang_up() -> None:  # a server that dies mid-call: reads the request, answers nothing
        for _ in range(2):
            conn, _ = listener.accept()
            conn.recv(1 << 20)
            conn.close()

    thread = threading.Thread(target=hang_up, daemon=True)
    thread.start()
    code, out, _, imported = split(cogo(runtime, "search", "computeLeaseExpiry", "--json"))
    assert code == 0 and json.loads(out)[0]["path"] == "src/core/lease.ts" and imported
    thread.join(timeout=30)
    listener.close()
    path.unlink()
    # an idle server goes away by itself, with its socket
    split(cogo(runtime, "search", "lease", COGO_WARM_IDLE_S="1"))
    pid = server_pid(runtime)
    assert gone(pid) and not path.exists()


def test_ctrl_c_while_the_server_works_ends_the_call_as_in_process(indexed: str, runtime: Path):
    folder = runtime / "cogo"
    folder.mkdir(mode=0o700)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(warm_search.socket_path(folder)))
    listener.listen(1)
    environ = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "COGO_WARM_SEARCH": "1"}
    with subprocess.Popen([*COGO, "search", "lease"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=environ, stdin=subprocess.DEVNULL) as client:  # fmt: skip
        listener.settimeout(60)
        held, _ = listener.accept()  # a server that never answers
        time.sleep(0.3)  # the request is sent; the client waits for the answer
        client.send_signal(signal.SIGINT)
        out, err = client.communicate(timeout=60)
    held.close()
    listener.close()
    assert client.returncode == 130 and out == ""
    assert err.splitlines()[0] == "cogo: error: aborted" and "Traceback" not in err


def test_a_runtime_folder_others_can_enter_is_never_used(indexed: str, runtime: Path,
                                                         monkeypatch: pytest.MonkeyPatch):
    (runtime / "cogo").mkdir(mode=0o755)
    (runtime / "cogo").chmod(0o755)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    assert warm_search.runtime_dir() is None
    for _ in range(2):
        code, out, _, imported = split(cogo(runtime, "search", "computeLeaseExpiry", "--json"))
        assert code == 0 and imported and json.loads(out)
    time.sleep(1)
    assert list((runtime / "cogo").iterdir()) == [], "no socket, no lock in a folder others can enter"
