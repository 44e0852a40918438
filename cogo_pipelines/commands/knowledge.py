"""``cogo index``: discover a repository and record it in the store."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from cogo_pipelines.indexing import sources
from cogo_pipelines.store import db, files

console = Console(stderr=True)


def index(
    repo: Path = typer.Argument(..., exists=True, file_okay=False, help="Repository root"),
    entry: list[str] = typer.Option(None, "--entry", help="Entry file (repeatable)"),
    no_embed: bool = typer.Option(False, "--no-embed", help="Skip embeddings"),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON"),
) -> None:
    """Index REPO into the store."""
    repo_name = sources.repo_id(repo)
    found = sources.discover(repo)
    with db.session() as conn:
        delta = files.sync_files(conn, repo_name, found)
    summary = {
        "repo": repo_name,
        "files": len(found),
        "added": len(delta.added),
        "changed": len(delta.changed),
        "removed": len(delta.removed),
        "unchanged": len(delta.unchanged),
    }
    if as_json:
        print(json.dumps(summary))
    else:
        console.print(summary)


def register(app: typer.Typer) -> None:
    app.command("index")(index)
