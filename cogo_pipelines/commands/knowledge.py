"""``cogo index`` and ``cogo search``: argument parsing, progress and tables only.

The work is in ``pipeline/index_run.py`` (staged pipeline) and ``store/knowledge.py`` (search).
Progress and tables go to stderr so that ``--json`` output on stdout stays machine-readable.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cogo_pipelines.commands import search_text
from cogo_pipelines.pipeline import knowledge_tools
from cogo_pipelines.settings import get_settings
from cogo_pipelines.store import db, knowledge

if TYPE_CHECKING:
    from rich.progress import Progress

console = Console(stderr=True)
# The summary model of a process that stays up (set by ``warm_search``): its searches add the
# file summary list, as the MCP server's and the sidecar's do. A search in its own process has
# none: loading the transformer (~1.5 s) would cost more than the search.
summary_model: Callable[[], knowledge.SummaryModel | None] = lambda: None


def _say(text: str) -> None:
    """One line of the user's text on stderr as it is: no rich markup read from paths and names
    (``src/app/[slug]/page.tsx`` lost its ``[slug]``; a folder ``[`` ended the run with a
    MarkupError), no wrapping at 80 columns when stderr is no terminal."""
    console.print(text, markup=False, highlight=False, soft_wrap=True)


class _StageBars:
    """One rich progress bar per stage, created when the stage first reports. Redrawn here, at
    most ten times a second, not by rich's refresh thread: with a second thread running, the
    graph stage may not fork its parsing and linking processes (see ``static_graph``) and
    runs slower."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, int] = {}
        self.drawn = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(stage, total=max(total, 1))
        task = self.tasks[stage]
        self.progress.update(task, total=max(total, 1), completed=done if total else 1)
        if done >= total or time.monotonic() - self.drawn >= 0.1:
            self.progress.refresh()
            self.drawn = time.monotonic()


def _report_to_dagster(summary, repo: Path, *, embedded: bool) -> None:
    """The run as materialisations of the repo's partition, when DAGSTER_HOME is set; the index
    stands even when the Dagster instance cannot be written."""
    from cogo_pipelines.pipeline import dagster_events

    try:
        dagster_events.report_index_run(summary, repo, embedded=embedded)
    except Exception as exc:  # noqa: BLE001 — any storage failure of Dagster's: say it, keep the index
        _say(f"cogo index: warning: not reported to Dagster ({type(exc).__name__}: {exc})")


def index(
    repo: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Repository root")],
    entry: Annotated[
        list[str] | None, typer.Option("--entry", help="Entry file or glob, relative to REPO (repeatable)")
    ] = None,
    no_embed: Annotated[
        bool, typer.Option("--no-embed", help="Skip embeddings (keyword search still works)")
    ] = False,
    traces: Annotated[
        Path | None,
        typer.Option(
            "--traces", file_okay=False, help="Trace folder (default RUNTIME_TRACE_DIR or $COGO_HOME/traces)"
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON on stdout")] = False,
    include: Annotated[
        list[str] | None, typer.Option("--include", help="Include glob, replacing the default policy (repeatable)")
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option("--exclude", help="Exclude glob, replacing the default policy (repeatable)")
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="The repo's name in the store (default: git remote, else folder)")
    ] = None,
    summaries: Annotated[
        bool, typer.Option("--summaries", help="Embed the file summaries now with the summary model (a transformer, "
                                               "~10 s to load); else the MCP server or sidecar embeds them")
    ] = False,
) -> None:
    """Index REPO into the store: graph, runtime traces + ranks, chunks, embeddings (only what changed).

    What to index: flags over REPO/cogo.toml [index] over INDEX_INCLUDE/INDEX_EXCLUDE/ENTRIES/REPO_NAME
    over the defaults (docs/INDEX_YOUR_REPO.md)."""
    # deferred: the index pipeline (parsers, graph, networkx) costs ~0.4 s to import, which
    # `cogo search` must not pay
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from cogo_pipelines.indexing import policy as index_policy
    from cogo_pipelines.pipeline import index_run
    from cogo_pipelines.store.repo_roots import RepoNameTaken

    if summaries and no_embed:
        _say("cogo index: --summaries embeds the file summaries, --no-embed embeds nothing: pass one of them")
        raise typer.Exit(2)
    try:
        prepared = index_policy.prepare(repo, index_policy.Layer.of("flags", name, include, exclude, entry),
                                        index_policy.env_layer(get_settings()))
    except index_policy.PolicyError as exc:
        _say(f"cogo index: {exc}")
        raise typer.Exit(2) from None
    for message in prepared.messages:
        _say(f"cogo index: {message}")
    if prepared.empty:
        _say(f"cogo index: {prepared.no_files_error()}")
        raise typer.Exit(2)
    progress = Progress(
        TextColumn("{task.description:<8}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=as_json, disable=not console.is_terminal and as_json, auto_refresh=False,
    )  # fmt: skip
    try:
        with db.connect() as conn, progress:
            summary = index_run.run_index(conn, repo, entries=prepared.entries, embed=not no_embed,
                                          progress=_StageBars(progress), trace_dir=traces,
                                          policy=prepared.policy.sources_policy(), repo=prepared.policy.name,
                                          discovery=prepared.discovery, summaries=summaries)  # fmt: skip
    except RepoNameTaken as exc:
        _say(f"cogo index: {exc}")
        raise typer.Exit(2) from None
    _report_to_dagster(summary, repo, embedded=not no_embed)
    data = summary.as_dict()
    data["skipped"] = dict(prepared.discovery.skipped)
    data["entries"] = prepared.entries
    data["missing_entries"] = prepared.unmatched_entries
    if as_json:
        print(json.dumps(data))
        return
    table = Table(title=f"cogo index {summary.repo}", show_header=False)
    for key in ("files", "parsed", "symbols", "edges", "chunks", "rechunked_files", "skipped_unchanged",
                "removed_files", "embedded", "embeddings_from_cache", "summaries_written", "summaries_embedded",
                "summaries_pending", "trace_files", "runtime_edges",
                "runtime_symbols", "unknown_frames"):  # fmt: skip
        table.add_row(key.replace("_", " "), str(data[key]))
    table.add_row("trace warnings", str(len(summary.trace_warnings)))
    table.add_row("errors", str(len(summary.errors)))
    table.add_row("seconds", ", ".join(f"{k} {v:.2f}" for k, v in data["seconds"].items()))
    if summary.pruned:  # the store's daily upkeep ran after this run
        table.add_row("pruned (daily upkeep)", ", ".join(f"{k} {v}" for k, v in summary.pruned.items()))
    console.print(table)
    if summary.summaries_pending:
        _say(f"cogo index: {summary.summaries_pending} file summaries wait for their vectors: the MCP server and the "
             "sidecar embed them in the background (their searches and a warm `cogo search` add the summary list once all have one), "
             "or run `cogo index --summaries`")
    for warning in summary.trace_warnings[:20]:
        console.print(f"[yellow]trace[/]: {escape(warning)}", highlight=False, soft_wrap=True)
    for path, message in summary.errors[:20]:
        console.print(f"[yellow]{escape(path)}[/]: {escape(message)}", highlight=False, soft_wrap=True)
    if len(summary.errors) > 20:
        console.print(f"… and {len(summary.errors) - 20} more (files.error in the store)")


def search(
    query: Annotated[str, typer.Argument(help="What to look for: words, identifiers, paths")],
    k: Annotated[int, typer.Option("--k", min=1, max=200, help="Number of results")] = 10,
    repo: Annotated[str | None, typer.Option("--repo", help="Only this indexed repo (its name: see `cogo index --name`)")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="JSON: [{path, symbol, chunk_type, start_line, end_line, score, repo}]")
    ] = False,
) -> None:
    """Hybrid search (vector + keyword, boosted by graph rank) over the indexed chunks."""
    try:  # the checks of the MCP tool and the REST API: blank, too long, control characters
        query = knowledge_tools.check_text(query, "query", knowledge_tools.MAX_QUERY_CHARS)
    except knowledge_tools.ToolInputError as exc:
        _say(f"cogo search: error: {exc}")
        raise typer.Exit(2) from None
    settings = get_settings()
    store = "DATABASE_URL" if settings.database_url else f"the store in {settings.cogo_home.resolve()}"
    if (home := db.missing_store(settings)) is not None:  # say so rather than make an empty one
        _say(f"cogo search: no store in {home}: nothing is indexed from here; {db.NO_STORE_HINT}")
        raise typer.Exit(1)
    try:
        with db.connect() as conn:
            hits = knowledge.search(conn, query, k=k, repo=repo, summary=summary_model())
            several = repo is None and len(knowledge.indexed_repos(conn)) > 1
    except knowledge.EmptyIndexError as exc:
        _say(f"cogo search: {exc} ({store})")
        raise typer.Exit(2 if repo else 1) from None  # a repo name that is not indexed: a bad argument
    if as_json:
        print(json.dumps([h.as_dict() for h in hits]))
        return
    if not hits:
        console.print("no matches")
        return
    search_text.print_hits(hits, query, several=several, console=Console())


def register(app: typer.Typer) -> None:
    app.command("index")(index)
    app.command("search")(search)
