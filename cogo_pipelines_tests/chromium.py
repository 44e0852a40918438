"""The headless Chromium the browser tests drive through playwright (the Debian `chromium`)."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-dev-shm-usage", "--no-first-run", "--disable-extensions"]


def chromium_path() -> str:
    """Its executable; skips the test where it is missing, except in CI, where that fails it."""
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is required in CI (Debian package `chromium`, installed by .ci/run)")
        pytest.skip("chromium not installed (apt-get install chromium); CI=true makes this a failure")
    return path
