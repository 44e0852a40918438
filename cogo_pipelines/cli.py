"""The ``cogo`` command. Each area registers its sub-commands from ``cogo_pipelines.commands``;
this module only assembles them and turns store errors into one clear line."""

from __future__ import annotations

import logging
import os
import sys

import typer

from cogo_pipelines.commands import graph, knowledge, quality, queue, server
from cogo_pipelines.store.db import StoreError

app = typer.Typer(
    name="cogo",
    help="cogo pipelines: code-knowledge index, job queue, Q1 gate, sidecar.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)



@app.callback()
def _root() -> None:
    """Keeps ``cogo`` a command group even while an area registers a single command."""


for area in (knowledge, graph, queue, quality, server):
    area.register(app)


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "WARNING"), format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except StoreError as exc:
        print(f"cogo: error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
