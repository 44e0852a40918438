"""Checks on command-line values, for the ``callback=`` of typer options and arguments.

Each raises ``typer.BadParameter``, which click prefixes with the option's name and ``cli.main``
prints as one line with exit status 2, before any store is opened. The rules themselves live
in the core (``queue.validation``) so that the CLI and the REST API refuse the same things.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from cogo_pipelines.queue import validation

T = TypeVar("T")


def checked(validate: Callable[[Any], object]) -> Callable[[T], T]:
    """The value unchanged once ``validate`` accepts it (``None``, an unset option, always is)."""

    def callback(value: T) -> T:
        if value is None:
            return value
        try:
            validate(value)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
        return value

    return callback


def name(field: str) -> Callable[[T], T]:
    """A queue name (job type, executor id, dedupe key): letters, digits and ``. _ : * / -``."""
    return checked(lambda v: validation.name(v, field))


def names(field: str) -> Callable[[T], T]:
    """A repeatable option, or one comma-separated value, of queue names."""

    def each(value: Any) -> None:
        parts = value.split(",") if isinstance(value, str) else value
        for part in parts:
            validation.name(part.strip() if isinstance(value, str) else part, field)

    return checked(lambda v: each(v) if v else None)


def int_range(field: str, bounds: tuple[int, int]) -> Callable[[T], T]:
    return checked(lambda v: validation.bounded_int(v, field, bounds))


def finite(field: str, lo: float, hi: float, *, above: bool = False) -> Callable[[T], T]:
    """A finite number in ``[lo, hi]`` (``(lo, hi]`` with ``above``): NaN and infinities are refused."""

    def check(value: float) -> None:
        low_ok = value > lo if above else value >= lo
        if not (math.isfinite(value) and low_ok and value <= hi):
            raise ValueError(f"{field} must be a finite number {'above' if above else 'from'} {lo:g} "
                             f"{'and at most' if above else 'to'} {hi:g}, got {value!r}")

    return checked(check)
