"""How ``cogo search`` prints hits for a person: one block per hit, never parsed as markup.

A path such as ``src/app/api/users/[userId]/route.ts`` is text, not rich markup (printed
through markup, ``[userId]`` vanished), and every field has its own line, so a narrow terminal
never wraps the score into the snippet. In a terminal the lines are styled and cut at its width
(``…``); in a pipe they are plain and whole.

    1. src/core/lease.ts:13-17  (with several repos: ``cogo-sample:src/…``)
       computeLeaseExpiry · function
       score 1.020
       │ export function computeLeaseExpiry(nowMs: number, leaseSeconds: number = …
"""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from cogo_pipelines.pipeline.knowledge_tools import lines_text, snippet
from cogo_pipelines.store.knowledge import SearchHit

SNIPPET_LINES = 4


def hit_lines(number: int, hit: SearchHit, query: str, *, several: bool) -> list[tuple[str, str]]:
    """(text, style) lines of one hit."""
    where = f"{hit.path}:{lines_text(hit.start_line, hit.end_line)}"
    head = f"{number:>2}. " + (f"{hit.repo}:{where}" if several else where)
    what = " · ".join(part for part in (hit.symbol, hit.kind or hit.chunk_type) if part)
    out = [(head, "bold"), (f"    {what}", "cyan"), (f"    score {hit.score:.3f}", "dim")]
    out += [(f"    │ {line}", "") for line in snippet(hit.content, query, SNIPPET_LINES).splitlines()]
    return out


def print_hits(hits: list[SearchHit], query: str, *, several: bool, console: Console) -> None:
    for i, hit in enumerate(hits, 1):
        if i > 1:
            console.print() if console.is_terminal else print()
        for text, style in hit_lines(i, hit, query, several=several):
            if console.is_terminal:
                console.print(Text(text, style=style), no_wrap=True, overflow="ellipsis", crop=True)
            else:
                print(text)
