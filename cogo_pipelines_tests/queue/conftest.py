"""Helpers to drive the real ``cogo`` CLI in subprocesses against the test database."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

COGO = [sys.executable, "-m", "cogo_pipelines.cli"]


def cogo(*args: str, timeout: float = 60, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*COGO, *args], capture_output=True, text=True, timeout=timeout, check=False,
                          env={**os.environ, **(env or {})})


def start_runner(*args: str, env: dict | None = None, **popen) -> subprocess.Popen:
    return subprocess.Popen([*COGO, "runner", *args], env={**os.environ, **(env or {})}, **popen)


def wait_for(predicate, timeout: float = 20.0, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"condition not met within {timeout} s")


@pytest.fixture
def aconn(database_url):
    """An autocommit connection: every read sees other processes' latest commits."""
    from cogo_pipelines.store import db

    with db.connect(database_url, autocommit=True) as c:
        yield c
