"""What a job's command can see of its runner's environment: an allow-list, not a scrub list.

A ``code.build.test`` / ``code.debug`` command is arbitrary shell from whoever enqueued it, so it
gets only what a build needs (``PATH``, ``HOME``, locale, ``TERM``, ``TZ``, ``CI``, Node/npm/pnpm/
yarn settings) plus the names the operator lists in ``RUNNER_PASS_ENV`` and the job's own
``payload.env``. A name that looks like a secret (``DATABASE_URL``, ``SUPABASE_*``, ``VAULT_*``,
``NEO4J_*``, ``COGO_API_TOKEN``, anything with KEY/SECRET/TOKEN/PASSWORD/... in it, or a value that
is a URL with a password) never passes unless ``RUNNER_PASS_ENV`` names it exactly.

A command can also read its parent's exec-time environment (``/proc/$PPID/environ``), which no
change to ``os.environ`` alters. So ``cogo runner`` first re-executes itself with every secret
removed from its environment and hands the secrets to the new image through an inherited pipe
(``reexec_without_secrets``); the new image puts them back into ``os.environ`` (the heap, which
``/proc/<pid>/environ`` does not show) and closes the pipe before any job runs.

What this does not do: the command still runs as the runner's OS user, with that user's rights
(files it can read, such as a ``.env`` file, other processes of that user). See the runbook.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable, Mapping

ALLOWED_NAMES = frozenset({"PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TERM", "TZ", "CI",
                           "TMPDIR"})
ALLOWED_PREFIXES = ("LC_", "NODE_", "npm_config_", "NPM_CONFIG_", "PNPM_", "YARN_")
SECRET_NAMES = frozenset({"DATABASE_URL", "COGO_API_TOKEN"})
SECRET_PREFIXES = ("SUPABASE_", "VAULT_", "NEO4J_")
SECRET_WORDS = ("KEY", "SECRET", "TOKEN", "PASSWORD", "PASSWD", "CREDENTIAL", "AUTH", "COOKIE", "PRIVATE")
# scheme://user:password@host — a connection string with its password (DAGSTER_POSTGRES_URL, ...).
_URL_WITH_PASSWORD = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{0,30}://[^/?#@\s:]*:[^/?#@\s]+@")
HANDOVER_FD_VAR = "COGO_SECRETS_FD"
_HANDOVER_MAX_BYTES = 60_000  # below a pipe's buffer, so the write before exec never blocks


def is_secret(name: str, value: str = "") -> bool:
    upper = name.upper()
    return (upper in SECRET_NAMES or upper.startswith(SECRET_PREFIXES) or any(w in upper for w in SECRET_WORDS)
            or bool(_URL_WITH_PASSWORD.search(value)))


def is_allowed(name: str) -> bool:
    return name in ALLOWED_NAMES or name.startswith(ALLOWED_PREFIXES)


def command_env(environ: Mapping[str, str], pass_names: Iterable[str] = (),
                extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a job's command: allowed, non-secret names of ``environ``; the names
    in ``pass_names`` as they are; then ``extra`` (the job's payload.env) on top."""
    passed = set(pass_names)
    env = {k: v for k, v in environ.items() if k in passed or (is_allowed(k) and not is_secret(k, v))}
    if extra:
        env.update(extra)
    return env


def known_secrets(settings, environ: Mapping[str, str]) -> list[str]:
    """What a job's log, result and error must never keep: the configured secrets
    (``Settings.secret_values``) and the values of secret-looking variables that
    ``RUNNER_PASS_ENV`` hands to commands on purpose (an ``NPM_TOKEN`` a build needs: the command
    may use it, its output may not store it). Values shorter than 6 characters are left out: they
    would shred ordinary text."""
    passed = [value for name in settings.runner_pass_env
              if (value := environ.get(name)) and is_secret(name, value)]
    return [value for value in dict.fromkeys([*settings.secret_values(), *passed]) if len(value) >= 6]


def withheld(environ: Mapping[str, str]) -> dict[str, str]:
    """The secret-looking part of ``environ`` (what the runner's own exec image must not hold)."""
    return {k: v for k, v in environ.items() if is_secret(k, v)}


def _invoked_as_cli() -> bool:
    """Only a real ``cogo runner`` process re-executes (never a test calling the command in-process)."""
    script = os.path.basename(sys.argv[0]) if sys.argv else ""
    return sys.argv[1:2] == ["runner"] and (script == "cogo" or sys.argv[0].endswith(
        os.path.join("cogo_pipelines", "cli.py")))


def reexec_without_secrets() -> None:
    """First thing ``cogo runner`` does. In the re-executed image: take the secrets back from the
    pipe. Otherwise, when the environment holds secrets: re-exec ``python -m cogo_pipelines.cli
    <same args>`` without them (same PID, so supervisors and signals are unaffected)."""
    if HANDOVER_FD_VAR in os.environ:
        _receive(os.environ.pop(HANDOVER_FD_VAR))
        return
    secrets = withheld(os.environ)
    if not secrets or not _invoked_as_cli():
        return
    data = json.dumps(secrets).encode("utf-8")
    if len(data) > _HANDOVER_MAX_BYTES:
        print(f"cogo: error: the runner's secret environment variables total {len(data)} bytes "
              f"(at most {_HANDOVER_MAX_BYTES})", file=sys.stderr)
        raise SystemExit(2)
    read_fd, write_fd = os.pipe()
    os.write(write_fd, data)
    os.close(write_fd)
    os.set_inheritable(read_fd, True)
    clean = {k: v for k, v in os.environ.items() if k not in secrets}
    clean[HANDOVER_FD_VAR] = str(read_fd)
    sys.stdout.flush()
    sys.stderr.flush()
    argv = [sys.executable, "-m", "cogo_pipelines.cli", *sys.argv[1:]]
    os.execve(sys.executable, argv, clean)


def _receive(fd_text: str) -> None:
    try:
        fd = int(fd_text)
    except ValueError:
        return
    chunks = []
    try:
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
    except OSError:
        return
    finally:
        try:
            os.close(fd)
        except OSError:
            pass
    secrets = json.loads(b"".join(chunks) or b"{}")
    # putenv copies onto the heap: /proc/<pid>/environ keeps showing the clean exec image.
    os.environ.update({str(k): str(v) for k, v in secrets.items()})
