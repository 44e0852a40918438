"""Fixtures of the quality tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cogo_pipelines_tests.quality.helpers import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r
