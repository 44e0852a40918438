"""A warm process for ``cogo search``, as eslint_d or ``dmypy`` keep one for their tools.

Why: a ``cogo search`` is ~0.1 s of work behind ~0.6 s of imports (psycopg, pydantic-settings,
typer, rich), and agents call it dozens of times a task. The first call searches in its own
process as before, then leaves a detached server behind; the next calls hand their arguments to
it over a Unix socket and print what it answers (~0.2 s whole-process).

Nothing changes for the caller:

- The server runs the very ``cogo`` command for each call, one call at a time, inside the
  caller's environment and working directory (so ``.env``, ``COGO_HOME``, ``DATABASE_URL`` and
  the nearest ``.cogo`` are read as a fresh process reads them), and sends back its stdout,
  stderr and exit status. Output is rendered for the caller's terminal (a tty or a pipe, its
  width and colours).
- Any failure on the way (no server, a server that dies mid-call, an unreadable answer) runs
  the search in-process instead: a search only reads, so running it again is safe.
- A server whose code changed on disk (an upgrade, an edit) answers "stale" and exits; the
  caller searches in-process and starts a fresh one.

Safety: the socket sits in a folder only the user can enter (``$XDG_RUNTIME_DIR/cogo``, else
``/tmp/cogo-<uid>``, refused unless owned by the user with mode 0700), and the server also checks
the peer's uid where the platform says it (``SO_PEERCRED``). The caller's environment, secrets
included, crosses only that socket and is never logged. The server exits after
``COGO_WARM_IDLE_S`` seconds (default 900) without a call, or when its folder goes away.
``COGO_WARM_SEARCH=0`` turns the whole thing off (read from the environment only: the client must
not pay for the settings' imports).

The client half imports only the standard library; the server half imports the CLI.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import socket
import stat
import struct
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
MAX_REQUEST_BYTES = 1 << 20  # argv + environment: a larger request is refused, not read
CONNECT_TIMEOUT_S = 0.5
ANSWER_TIMEOUT_S = 120.0  # a server stuck this long (stopped, deadlocked) is given up: in-process
DEFAULT_IDLE_S = 900.0
serving = False  # True in the server: its own `cli.main` runs the command, it never forwards


def enabled() -> bool:
    return os.environ.get("COGO_WARM_SEARCH", "1").strip().lower() not in ("0", "off", "false", "no")


def runtime_dir() -> Path | None:
    """The user's private folder for the socket, made if missing; None when it is not private
    (another owner, or a mode open to others): then nothing is warm, everything in-process."""
    if not hasattr(socket, "AF_UNIX") or not hasattr(os, "getuid"):
        return None  # no Unix sockets or uids (Windows): every search in-process
    base = os.environ.get("XDG_RUNTIME_DIR", "").strip()
    folder = Path(base) / "cogo" if base else Path("/tmp") / f"cogo-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, parents=base != "", exist_ok=True)
        info = folder.lstat()
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        return None
    return folder


def _key() -> str:
    """One server per environment and installed package: another venv or checkout gets its own
    (the `cogo` script's `bin/python3` and `python -m`'s `bin/python` share one)."""
    where = f"{sys.prefix}\0{os.path.realpath(sys.executable)}\0{PACKAGE_DIR}".encode()
    return f"{zlib.crc32(where):08x}"  # zlib: hashlib's import costs ~6 ms of every call


def socket_path(folder: Path) -> Path:
    return folder / f"search-{_key()}.sock"


# --- client -------------------------------------------------------------------------------


def _terminal_env() -> dict[str, str]:
    """The caller's environment, with its terminal's size where it has one: the server's own
    streams are /dev/null, so rich there would take 80 columns."""
    env = dict(os.environ)
    if "COLUMNS" not in env:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(AttributeError, OSError, ValueError):
                size = os.get_terminal_size(stream.fileno())
                env["COLUMNS"], env["LINES"] = str(size.columns), str(size.lines)
                break
    return env


def _isatty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError, OSError):
        return False


def _read_all(conn: socket.socket, limit: int) -> bytes:
    chunks, size = [], 0
    while chunk := conn.recv(1 << 16):
        size += len(chunk)
        if size > limit:
            raise ValueError("message too large")
        chunks.append(chunk)
    return b"".join(chunks)


def forward(argv: list[str]) -> int | None:
    """Run ``cogo <argv>`` on the warm server: its exit status once its output is written here,
    or None when there is no usable server (the caller then runs the command itself and calls
    ``start_later``)."""
    if not enabled() or (folder := runtime_dir()) is None:
        return None
    path = socket_path(folder)
    try:  # (a working folder deleted under the caller: getcwd fails; in-process says what that means)
        request = json.dumps({"prog": sys.argv[0], "argv": argv, "cwd": os.getcwd(), "env": _terminal_env(),
                              "stdout_tty": _isatty(sys.stdout), "stderr_tty": _isatty(sys.stderr)})  # fmt: skip
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(CONNECT_TIMEOUT_S)
            conn.connect(str(path))
            conn.settimeout(ANSWER_TIMEOUT_S)  # a search may take long (a cold store)
            conn.sendall(request.encode("utf-8", "surrogatepass"))
            conn.shutdown(socket.SHUT_WR)
            answer = json.loads(_read_all(conn, 1 << 30).decode("utf-8", "surrogatepass"))
    except (OSError, ValueError):  # no server, a dead one, a broken answer: in-process
        return None
    if not isinstance(answer, dict) or not isinstance(answer.get("code"), int):
        return None  # "stale" (its code changed) or refused: in-process, then a fresh server
    sys.stdout.write(answer.get("stdout", ""))
    sys.stdout.flush()
    sys.stderr.write(answer.get("stderr", ""))
    sys.stderr.flush()
    return answer["code"]


# -c, not -m: click names the command after __main__'s package when it has one. The package is
# imported from where this one was (its socket is named after that folder), and the working
# folder (-c's sys.path[0], '') is not searched: the server works in its callers' folders.
_SERVE = (f"import sys; sys.path[0] = {str(PACKAGE_DIR.parent)!r}\n"
          "from cogo_pipelines import warm_search; warm_search.serve()")  # fmt: skip


def start_later() -> None:
    """Start a server for the next calls when this process exits (its start-up then does not
    share the cores with this call's own search)."""
    if enabled() and runtime_dir() is not None:
        import atexit

        atexit.register(_spawn)


def _spawn() -> None:
    import subprocess  # here: a forwarded call never needs it

    with contextlib.suppress(OSError):
        subprocess.Popen(
            [sys.executable, "-c", _SERVE],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, close_fds=True, cwd="/",
        )  # fmt: skip


def stop() -> bool:
    """Stop this environment's warm server (`make stop`); True when one was running."""
    import signal

    if (folder := runtime_dir()) is None:
        return False
    try:
        pid = int(socket_path(folder).with_suffix(".pid").read_text())
        if Path("/proc").is_dir() and b"warm_search" not in Path(f"/proc/{pid}/cmdline").read_bytes():
            return False  # a pid file left by a killed server, its number since reused
        os.kill(pid, signal.SIGTERM)
    except (OSError, ValueError):
        return False
    return True


# --- server -------------------------------------------------------------------------------


class _Stream(io.StringIO):
    """A captured stdout/stderr that is a terminal exactly when the caller's is."""

    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def _peer_uid(conn: socket.socket) -> int | None:
    if not hasattr(socket, "SO_PEERCRED"):
        return None
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[1]


def _watch(stamp: dict[str, float]) -> None:
    """Add to ``stamp`` the modification time of each module of this package the server has
    loaded since, and of the folders packages are installed in (`pip install` adds or removes a
    `*.dist-info` there: the libraries under the server may have changed)."""
    files = [getattr(module, "__file__", None) or "" for module in list(sys.modules.values())]
    files = [file for file in files if file.startswith(str(PACKAGE_DIR))]
    files += [entry for entry in sys.path if entry.endswith(("site-packages", "dist-packages"))]
    for file in files:
        if file not in stamp:
            with contextlib.suppress(OSError):
                stamp[file] = os.stat(file).st_mtime


def _stale(stamp: dict[str, float]) -> bool:
    for file, mtime in stamp.items():
        try:
            if os.stat(file).st_mtime != mtime:
                return True
        except OSError:
            return True
    return False


class _HeldSummary:
    """The caller's summary model (``SUMMARY_MODEL``) as a warm search uses it
    (``knowledge.SummaryModel``): loaded in this process by the first search that adds the list
    (~1.5 s, once), then held. It never embeds the store's summaries (``cogo index --summaries``,
    the MCP server or the sidecar do): search adds the list where they all have a vector."""

    def __init__(self, name: str, key: str) -> None:
        self._name, self.key = name, key

    def vector(self, text: str) -> list[float]:
        from cogo_pipelines.indexing import embedding

        return embedding.encode([text], model=self._name)[0].tolist()

    def notice_incomplete(self) -> None:
        """Nothing: this process does not fill; the summaries' holders do."""


def _summary_model() -> _HeldSummary | None:
    """The caller's summary model when it runs on ONNX Runtime, exported already (``make setup``):
    never a 30 s export or a torch load inside a search."""
    from cogo_pipelines.indexing import transformer_onnx
    from cogo_pipelines.pipeline import summaries
    from cogo_pipelines.settings import get_settings

    if (name := summaries.model_name()) is None:
        return None
    key = summaries.model_key(name)
    exported = transformer_onnx.folder(get_settings().cogo_home.resolve(), key)
    return _HeldSummary(name, key) if transformer_onnx.is_exported(exported) else None


@contextlib.contextmanager
def _as_caller(request: dict) -> Iterator[tuple[_Stream, _Stream]]:
    """The process made to look like the caller's for one command: environment, working folder,
    stdout/stderr, settings and the store's process caches read afresh."""
    import logging

    from cogo_pipelines import settings
    from cogo_pipelines.commands import knowledge as knowledge_cmd
    from cogo_pipelines.store import db

    saved_env, saved_argv = dict(os.environ), sys.argv
    out, err = _Stream(bool(request.get("stdout_tty"))), _Stream(bool(request.get("stderr_tty")))
    try:
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in dict(request["env"]).items()})
        os.chdir(str(request["cwd"]))
        settings.reload_settings()
        db.forget_process_state()
        logging.root.handlers.clear()  # `cli.main` configures logging onto this call's stderr
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            from rich.console import Console

            knowledge_cmd.console = Console(stderr=True)  # made at import, on the server's stderr
            knowledge_cmd.summary_model = _summary_model
            yield out, err
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        sys.argv = saved_argv
        os.chdir("/")
        logging.root.handlers.clear()


def _run(request: dict) -> dict:
    import gc

    from cogo_pipelines import cli

    argv = [str(a) for a in request["argv"]]
    if not argv or argv[0] != "search":
        return {"refused": "only `cogo search` runs warm"}
    try:
        with _as_caller(request) as (out, err):
            sys.argv = [str(request.get("prog", "cogo")), *argv]  # usage lines name the caller's command
            try:
                cli.main()
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            output = {"code": code, "stdout": out.getvalue(), "stderr": err.getvalue()}
    except Exception as exc:  # noqa: BLE001 — its folder gone, a crash: the caller runs it itself
        return {"refused": type(exc).__name__}
    finally:
        gc.unfreeze()  # `cli.main` freezes the heap for its exit; this process goes on
    return output


def serve(idle_s: float | None = None) -> None:
    """Answer ``forward`` calls until idle (or stale); at most one server per socket."""
    import fcntl
    import signal

    global serving
    serving = True
    folder = runtime_dir()
    if folder is None:
        return
    path = socket_path(folder)
    lock = open(path.with_suffix(".lock"), "w")  # noqa: SIM115 — held for the process's life
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return  # another server holds it
    idle_s = idle_s if idle_s is not None else float(os.environ.get("COGO_WARM_IDLE_S", DEFAULT_IDLE_S))
    with contextlib.suppress(FileNotFoundError):
        path.unlink()  # a socket left by a server that died: the lock says none is alive
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_mask = os.umask(0o077)
    try:
        listener.bind(str(path))
    finally:
        os.umask(old_mask)
    listener.listen(16)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # `kill`: leave no socket or pid file behind
    os.chdir("/")
    from cogo_pipelines import cli  # the imports that make it warm
    from cogo_pipelines.commands import knowledge  # noqa: F401

    cli.build_app(("knowledge",))
    stamp: dict[str, float] = {}
    _watch(stamp)
    path.with_suffix(".pid").write_text(f"{os.getpid()}\n")
    last = time.monotonic()
    try:
        while time.monotonic() - last < idle_s and path.exists():
            listener.settimeout(min(5.0, max(0.1, idle_s - (time.monotonic() - last))))
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                if _stale(stamp):
                    with contextlib.suppress(OSError):
                        conn.sendall(b'{"stale": true}')
                    return
                _answer(conn)
            _watch(stamp)  # modules first imported by this call (the summary model's, say) too
            last = time.monotonic()
    finally:
        listener.close()
        with contextlib.suppress(OSError):
            if path.exists():
                path.unlink()
        with contextlib.suppress(OSError):
            path.with_suffix(".pid").unlink()


def _answer(conn: socket.socket) -> None:
    try:
        peer = _peer_uid(conn)
        if peer is not None and peer != os.getuid():
            conn.sendall(b'{"refused": "another user"}')
            return
        conn.settimeout(10.0)
        request = json.loads(_read_all(conn, MAX_REQUEST_BYTES).decode("utf-8", "surrogatepass"))
        conn.settimeout(None)
        answer = _run(request) if isinstance(request, dict) else {"refused": "not a request"}
        conn.sendall(json.dumps(answer).encode("utf-8", "surrogatepass"))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        if isinstance(exc, OSError) and exc.errno == errno.EPIPE:
            return  # the caller went away
        with contextlib.suppress(OSError):
            conn.sendall(json.dumps({"refused": type(exc).__name__}).encode())
