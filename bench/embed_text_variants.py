"""What the static vectors embed: variants of a chunk's embedded text, all sets, one run.

    python bench/embed_text_variants.py [--sets trpc,zod,...] [--variants main,meaning,...]

Every set must already be indexed in the store (``bench/retrieval_suite.py`` once). For each
variant, every chunk of the set is re-embedded from its stored fields with the static model
(a table look-up: seconds) and the questions are run through ``knowledge.search`` with the
vector list read by an exact cosine search in numpy over those vectors instead of the store's
HNSW index (the keyword list, the fusion and everything else are the store's, unchanged). So
each variant, including ``main`` (today's ``Chunk.embed_text``), is compared on the same store,
read the same way, without the HNSW graph's noise. Prints hybrid and vector-only
NDCG@10 / recall@5 / MRR per set and variant, and the means (all sets, the four applications).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
import retrieval_eval
import retrieval_suite

from cogo_pipelines.indexing import static_embedding
from cogo_pipelines.indexing.chunking import IDENTIFIER_PARTS, Chunk
from cogo_pipelines.settings import get_settings
from cogo_pipelines.store import db, knowledge

APPS = ("umami", "storage", "ghostfolio", "rallly")
CODE = ("code", "module")

# ---- pieces of a code chunk that say what it is about ------------------------------------

_DOC = re.compile(r"/\*\*?(.*?)\*/|//(.*?)$", re.S | re.M)
_STRING = re.compile(r"'((?:[^'\\\n]|\\.)*)'|\"((?:[^\"\\\n]|\\.)*)\"|`((?:[^`\\]|\\.)*)`", re.S)
_IMPORT_LINE = re.compile(r"^\s*(import|export)\b[^\n]*\bfrom\s*['\"][^'\"]*['\"];?|^\s*import\s*['\"][^'\"]*['\"];?|require\(\s*['\"][^'\"]*['\"]\s*\)", re.M)
_CALL = re.compile(r"(?:\bnew\s+)?([A-Za-z_$][\w$]*)\s*(?:<[^<>()]*>)?\s*\(")
_JSX_TEXT = re.compile(r">([^<>{}]*[A-Za-z][^<>{}]*)<")
_TEMPLATE_EXPR = re.compile(r"\$\{[^}]*\}")
TS_KEYWORDS = frozenset(
    """abstract any as async await boolean break case catch class const constructor continue debugger
    declare default delete do else enum export extends false finally for from function get if implements
    import in infer instanceof interface is keyof let module namespace never new null number object of
    package private protected public readonly return set static string super switch symbol this throw
    true try type typeof undefined unique unknown var void while with yield""".split()
)
NOT_CALLS = TS_KEYWORDS | {"if", "for", "while", "switch", "catch", "function", "return", "super"}


def _words(text: str) -> list[str]:
    return [w.lower() for w in IDENTIFIER_PARTS.findall(text)]


def doc_comments(code: str) -> str:
    out = []
    for m in _DOC.finditer(code):
        body = m.group(1) if m.group(1) is not None else m.group(2)
        body = re.sub(r"^\s*\*+", " ", body, flags=re.M)
        if re.search(r"[A-Za-z]{2}", body) and not body.strip().startswith(("eslint", "@ts-", "prettier")):
            out.append(" ".join(body.split()))
    return "\n".join(out)


def string_literals(code: str) -> list[str]:
    code = _IMPORT_LINE.sub(" ", _DOC.sub(" ", code))
    out = []
    for m in _STRING.finditer(code):
        s = next(g for g in m.groups() if g is not None)
        s = _TEMPLATE_EXPR.sub(" ", s)
        if re.search(r"[A-Za-z]{2}", s):
            out.append(" ".join(s.split())[:200])
    return out


def called_names(code: str) -> list[str]:
    code = _STRING.sub(" ", _DOC.sub(" ", code))
    seen: dict[str, None] = {}
    for m in _CALL.finditer(code):
        name = m.group(1)
        if name not in NOT_CALLS:
            seen.setdefault(name, None)
    return list(seen)


def jsx_text(code: str) -> list[str]:
    return [" ".join(t.split()) for t in _JSX_TEXT.findall(_DOC.sub(" ", code)) if t.strip()]


def body_words(code: str, distinct: bool) -> list[str]:
    words = [w for w in _words(_DOC.sub(" ", code)) if w not in TS_KEYWORDS and not w.isdigit()]
    return list(dict.fromkeys(words)) if distinct else words


def meaning(c: Chunk, split: bool = True) -> str:
    code = c.content
    parts = [c.header, c.words(), doc_comments(code)]
    strings, calls, jsx = string_literals(code), called_names(code), jsx_text(code)
    if split:
        parts.append(" ".join(dict.fromkeys(w for s in strings for w in _words(s))))
        parts.append(" ".join(dict.fromkeys(w for n in calls for w in _words(n))))
        parts.append(" ".join(dict.fromkeys(w for t in jsx for w in _words(t))))
    else:
        parts += ["\n".join(strings), " ".join(calls), "\n".join(jsx)]
    return "\n".join(p for p in parts if p)


def _code_only(fn):
    def text(c: Chunk) -> str:
        return fn(c) if c.chunk_type in CODE else c.embed_text()

    return text


VARIANTS = {
    "main": lambda c: c.embed_text(),
    "meaning": _code_only(meaning),
    "meaning-raw": _code_only(lambda c: meaning(c, split=False)),
    "meaning+body400": _code_only(lambda c: meaning(c) + "\n" + c.content[:400]),
    "meaning+words": _code_only(lambda c: meaning(c) + "\n" + " ".join(body_words(c.content, True))),
    "filtered": _code_only(lambda c: f"{c.header}\n{c.words()}\n{doc_comments(c.content)}\n"
                           + " ".join(body_words(c.content, False))),  # fmt: skip
    "distinct": _code_only(lambda c: f"{c.header}\n{c.words()}\n{doc_comments(c.content)}\n"
                           + " ".join(body_words(c.content, True))),  # fmt: skip
    "nopunct": _code_only(lambda c: f"{c.header}\n{c.words()}\n"
                          + " ".join(w for w in re.findall(r"[A-Za-z_$][\w$]*", c.content) if w not in TS_KEYWORDS)),  # fmt: skip
}


def chunks_of(conn, repo: str) -> tuple[list[str], list[Chunk]]:
    rows = conn.execute(
        "SELECT id, path, chunk_type, symbol, kind, signature, header_chain, object_name, content"
        " FROM code_chunks WHERE repo = %s AND embedding IS NOT NULL ORDER BY id",
        (repo,),
    ).fetchall()
    chunks = [
        Chunk(r["path"], r["chunk_type"], r["content"], 0, 0, symbol=r["symbol"], kind=r["kind"],
              signature=r["signature"], header_chain=r["header_chain"], object_name=r["object_name"])
        for r in rows
    ]  # fmt: skip
    return [r["id"] for r in rows], chunks


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sets", default=",".join(retrieval_suite.SETS))
    p.add_argument("--variants", default=",".join(VARIANTS))
    p.add_argument("--show", help="print the embedded text of chunks whose symbol is this, per variant")
    a = p.parse_args()
    model = str(static_embedding.ensure(get_settings().cogo_home.resolve()))
    variants = a.variants.split(",")
    results: dict[str, dict[str, dict]] = {v: {} for v in variants}
    real_ranking = knowledge.vector_ranking
    with db.connect() as conn:
        for name in a.sets.split(","):
            _repo, questions_file, _include = retrieval_suite.SETS[name]
            questions = retrieval_eval.load_questions(questions_file)
            ids, chunks = chunks_of(conn, name)
            for variant in variants:
                t = time.perf_counter()
                texts = [VARIANTS[variant](c) for c in chunks]
                matrix = static_embedding.encode(model, texts)
                seconds = time.perf_counter() - t
                if a.show:
                    for c, text in zip(chunks, texts, strict=True):
                        if c.symbol == a.show:
                            print(f"--- {name} {variant} {c.path}\n{text}\n", file=sys.stderr)

                def exact(conn, query_vector, repo, limit=knowledge.CANDIDATES, matrix=matrix):
                    sims = matrix @ np.asarray(query_vector, dtype=np.float32)
                    top = np.argsort(-sims, kind="stable")[:limit]
                    return [(ids[i], float(sims[i])) for i in top]

                knowledge.vector_ranking = exact
                try:
                    means, _lat, _miss = retrieval_eval.evaluate(conn, name, questions, modes=("hybrid", "vector"))
                finally:
                    knowledge.vector_ranking = real_ranking
                results[variant][name] = {**means, "_s": seconds, "_chars": sum(map(len, texts)) / len(texts)}
                h, v = means["hybrid"], means["vector"]
                print(f"{name:<12} {variant:<16} hybrid {h['NDCG@10']:.3f}/{h['recall@5']:.3f}/{h['MRR']:.3f}"
                      f"  vector {v['NDCG@10']:.3f}/{v['recall@5']:.3f}/{v['MRR']:.3f}"
                      f"  {seconds:.1f} s  {results[variant][name]['_chars']:.0f} chars/chunk",
                      file=sys.stderr, flush=True)  # fmt: skip
    sets = [s for s in a.sets.split(",") if s in results[variants[0]]]
    fmt = lambda m: f"{m['NDCG@10']:.3f}/{m['recall@5']:.3f}/{m['MRR']:.3f}".replace("0.", ".")
    print("hybrid | vector-only, NDCG@10/recall@5/MRR, file relevance, exact vector search")
    print("| variant | " + " | ".join(sets) + " | mean apps | mean all |")
    print("|---" * (len(sets) + 3) + "|")
    for variant in variants:
        r = results[variant]
        cells = [f"{fmt(r[s]['hybrid'])} \\| {fmt(r[s]['vector'])}" for s in sets]
        for group in ([s for s in sets if s in APPS], sets):
            if group:
                mean = lambda mode, k: sum(r[s][mode][k] for s in group) / len(group)
                cells.append(f"{mean('hybrid', 'NDCG@10'):.3f}/{mean('hybrid', 'recall@5'):.3f} \\| "
                             f"{mean('vector', 'NDCG@10'):.3f}".replace("0.", "."))  # fmt: skip
            else:
                cells.append("–")
        print(f"| {variant} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.exit(main())
