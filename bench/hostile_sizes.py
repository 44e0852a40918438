"""Every parser and reader of the index on generated input at two sizes: a case whose time grows
much faster than its input, or that fails or hangs, is flagged.

    .venv/bin/python bench/hostile_sizes.py [--cases NAME,…] [--small 500] [--factor 4] [--timeout 60]

The cases are the shapes generated code, dumps and malformed files take (chains of typed
variables, callbacks nested thousands deep, changelogs of thousands of sections, seed files,
profiles whose nodes are each other's children, build logs of padded lines, ...): the "hostile input
is normal" standard says no parser may take more than linear time. Each case runs in a child
process with a timeout, at ``--small`` and ``--factor`` times that, and prints both times, the
ratio, and ``SUPERLINEAR`` where the ratio passes twice the factor (and the larger run takes over
0.2 s: small timings are noise), ``TIMEOUT`` or ``FAILED`` (with the error). Timings are of the
one call under test, in-process; the machine's load moves them, the ratios far less.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _repo(files: dict[str, str | bytes]) -> Path:
    root = Path(tempfile.mkdtemp(prefix="cogo-hostile-"))
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(text.encode() if isinstance(text, str) else text)
    return root


def _graph(files: dict[str, str]) -> Callable[[], object]:
    from cogo_pipelines.indexing.static_graph import analyze

    root = _repo(files)
    return lambda: analyze(root)


def _chunks(path: str, text: str) -> Callable[[], object]:
    from cogo_pipelines.indexing import chunking, typescript
    from cogo_pipelines.indexing.model import SourceFile
    from cogo_pipelines.indexing.sources import content_hash, language_of

    data = text.encode()
    source = SourceFile(path, language_of(path), content_hash(data), len(data))

    def run() -> object:
        extraction = tree = None
        if source.language in ("typescript", "tsx"):
            extraction, tree = typescript.extract_tree(path, data)
        out = chunking.chunk_file(source, data, extraction, tree)
        if out.error and "chunking failed" in out.error:
            raise RuntimeError(out.error)
        return out

    return run


def _trace(text: str) -> Callable[[], object]:
    from cogo_pipelines.indexing import runtime

    root = _repo({"trace.cpuprofile": text})
    index = runtime.SymbolIndex([runtime.SymbolSpan("a#f", "src/a.ts", "f", 1, 100, "function")])
    return lambda: runtime.load_traces([root / "trace.cpuprofile"], index)


def _log(text: str) -> Callable[[], object]:
    from cogo_pipelines.quality.build_log import parse_build_log

    return lambda: parse_build_log(text)


def _scrubbed(text: str) -> Callable[[], object]:
    from cogo_pipelines.quality.gate_fix import scrub

    return lambda: scrub(text)


def _frame(line: int) -> dict:
    return {"url": "file:///srv/src/a.ts", "lineNumber": line, "functionName": ""}


CASES: dict[str, Callable[[int], Callable[[], object]]] = {
    # the graph: extraction and linking
    "typed variable chain": lambda n: _graph({"src/a.ts": "class B { m(): B { return this } }\nexport function h() {\n"
                                              "const a0 = new B();\n" + "".join(f"const a{i + 1} = a{i}.m();\n" for i in range(n)) + "}\n"}),
    "callbacks nested deep": lambda n: _graph({"src/a.ts": "declare function g(cb: (x: Foo) => void): void\nclass Foo { m() {} }\n"
                                               "export function h() {" + "g((x) => { x.m(); " * n + "});" * n + "}\n"}),
    "guards in one chain": lambda n: _graph({"src/a.ts": "class T { m() {} }\nfunction isT(x: unknown): x is T { return true }\n"
                                             "export function h(a: unknown) { if (" + " && ".join(["isT(a)"] * n) + ") { a.m() } }\n"}),
    "fluent chain": lambda n: _graph({"src/a.ts": "class Q { " + " ".join(f"w{i}() {{ return this }}" for i in range(n))
                                      + " }\nexport const q = new Q()" + "".join(f".w{i}()" for i in range(n)) + ";\n"}),
    "union of many types": lambda n: _graph({"src/a.ts": "".join(f"interface A{i} {{ m(): void }}\n" for i in range(n))
                                             + "export type U = " + " | ".join(f"A{i}" for i in range(n)) + ";\nexport function h(u: U) { u.m() }\n"}),
    "assertion-function lookalikes": lambda n: _graph({"src/a.ts": "class T { m() {} }\nfunction isT(x: unknown): x is T { return true }\n"
                                                       "declare function invariant(c: unknown): void\nexport function h(a: unknown) { invariant(isT(a)); a.m() }\n// asserts\n"
                                                       + "function f<" * (n * 4)}),
    "re-export chain": lambda n: _graph({**{f"src/r{i}.ts": f"export * from './r{i + 1}';\n" for i in range(n // 4)},
                                         f"src/r{n // 4}.ts": "export const z = 1;\n", "src/a.ts": "import { z } from './r0';\nz;\n"}),
    "tsconfig extends chain": lambda n: _graph({**{f"cfg/t{i}.json": json.dumps({"extends": f"./t{i + 1}.json"}) for i in range(n)},
                                                "tsconfig.json": '{"extends": "./cfg/t0.json"}', "src/a.ts": "export const a = 1;\n"}),
    "manifest nested deep": lambda n: _graph({"package.json": '{"name": "x", "x": ' + "[" * (n * 4) + "]" * (n * 4) + "}",
                                              "src/a.ts": "export const a = 1;\n"}),
    "template import over many files": lambda n: _graph({**{f"src/p/m{i}.ts": "export const a = 1;\n" for i in range(n)},
                                                         "src/a.ts": "export const f = (x: string) => import(`./p/${x}`);\n" * 20}),
    # chunks
    "markdown sections": lambda n: _chunks("CHANGELOG.md", "".join(f"## 1.{i}\n\n```\nfix {i}\n```\n" for i in range(n))),
    "markdown without headings": lambda n: _chunks("NOTES.md", "a short paragraph\n\n" * (n * 10)),
    "expression nested deep": lambda n: _chunks("src/g.ts", "export function f(): string {\n  return "
                                                + "\n  + ".join(f"'segment {i}'" for i in range(n)) + ";\n}\n"),
    "sql statements": lambda n: _chunks("seed.sql", "".join(f"INSERT INTO t VALUES ({i}, 'x');\n" for i in range(n))),
    "sql one large insert": lambda n: _chunks("seed.sql", "INSERT INTO t VALUES " + ",".join(f"({i})" for i in range(n * 4)) + ";\n"),
    # runtime traces
    "profile chain": lambda n: _trace(json.dumps({"nodes": [{"id": i, "callFrame": _frame(5), "children": [i + 1] if i < n * 10 else [],
                                                             "hitCount": 1} for i in range(1, n * 10 + 1)]})),
    "profile cycle": lambda n: _trace(json.dumps({"nodes": [{"id": i, "callFrame": _frame(5), "children": [i % n + 1],
                                                             "hitCount": 1} for i in range(1, n + 1)]})),
    # build logs (the gate's failures)
    "log of padded test lines": lambda n: _log(("× a > b" + " " * 1_990 + "\n") * (n // 8)),
    "job log of url lookalikes": lambda n: _scrubbed("a://b:" * (n * 20) + " mail x@y.z"),
}


def _measure(name: str, size: int) -> dict:
    run = CASES[name](size)
    started = time.perf_counter()
    run()
    return {"seconds": time.perf_counter() - started}


def _child(name: str, size: int, timeout: float) -> tuple[str, float | None, str]:
    """(status, seconds, detail) of one case at one size, in a fresh process."""
    try:
        done = subprocess.run([sys.executable, __file__, "--run", name, "--size", str(size)], capture_output=True,
                              text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return "TIMEOUT", None, f"over {timeout:.0f} s"
    if done.returncode != 0:
        return "FAILED", None, (done.stderr.strip().splitlines() or ["?"])[-1][:160]
    return "ok", json.loads(done.stdout.strip().splitlines()[-1])["seconds"], ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", help="comma-separated case names (default: all)")
    parser.add_argument("--small", type=int, default=500, help="the smaller size (default 500)")
    parser.add_argument("--factor", type=int, default=4, help="the larger size is this many times the smaller")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per run (default 60)")
    parser.add_argument("--run", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        print(json.dumps(_measure(args.run, args.size)))
        return 0
    names = args.cases.split(",") if args.cases else list(CASES)
    unknown = [n for n in names if n not in CASES]
    if unknown:
        parser.error(f"unknown case(s): {', '.join(unknown)}; known: {', '.join(CASES)}")
    sizes = (args.small, args.small * args.factor)
    print(f"{'case':34} {'n=' + str(sizes[0]):>10} {'n=' + str(sizes[1]):>10}  ratio (x{args.factor} input)")
    flagged = 0
    for name in names:
        results = [_child(name, size, args.timeout) for size in sizes]
        times = [f"{s:9.3f}s" if s is not None else f"{status:>10}" for status, s, _ in results]
        note = next((f"{status}: {detail}" for status, _, detail in results if status != "ok"), "")
        if not note:
            small, large = results[0][1], results[1][1]
            ratio = large / max(small, 1e-4)
            note = f"x{ratio:.1f}" + ("  SUPERLINEAR" if ratio > 2 * args.factor and large > 0.2 else "")
        flagged += note.startswith(("TIMEOUT", "FAILED")) or "SUPERLINEAR" in note
        print(f"{name:34} {times[0]} {times[1]}  {note}", flush=True)
    print(f"{flagged} of {len(names)} cases flagged")
    return 1 if flagged else 0


if __name__ == "__main__":
    sys.exit(main())
