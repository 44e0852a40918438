"""What the static vectors embed: variants of a chunk's embedded text, all sets, one run.

    python bench/embed_text_variants.py [--sets trpc,zod,...] [--variants main,meaning,...]
                                        [--weights 0.25,1] [--query-words] [--overlap] [--ranks]
                                        [--cache /tmp/minilm-vectors]

Every set must already be indexed in the store (``bench/retrieval_suite.py`` once). For each
variant, every chunk of the set is re-embedded from its stored fields with the static model
(a table look-up: seconds) and the questions are run through ``knowledge.search`` with the
vector list read by an exact cosine search in numpy over those vectors instead of the store's
HNSW index (the keyword list, the fusion and everything else are the store's, unchanged). So
each variant, including ``main`` (today's ``Chunk.embed_text``), is compared on the same store,
read the same way, without the HNSW graph's noise.

Variants (code chunks only; markdown, SQL and text keep today's text): the parts that say what
code is about (header, name words, doc comments, string literals, called names, JSX text), with
or without a body prefix, the whole body, or its distinct words; the body without TypeScript
keywords and punctuation; a cut body; a per-file card vector beside or instead of the chunks;
and random vectors as the control; ``minilm``: today's text embedded by the all-MiniLM-L6-v2
transformer (the project's loader, offline; the questions too, by the same model), its chunk
vectors kept under ``--cache`` so a rerun does not encode again (minutes per set on 2 cores).
Prints hybrid and vector-only NDCG@10 / recall@5 / MRR per set
and variant, the means (the four applications, all sets), and each variant's (and weight's) per-question
hybrid NDCG@10 difference against the first variant (mean ± standard error). Figures and the
conclusion: docs/RAG.md, "What the static vectors embed" (the transformer: "Transformer or static
vectors").
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
import retrieval_eval
import retrieval_suite

from cogo_pipelines.indexing import embedding, static_embedding
from cogo_pipelines.indexing.chunk import IDENTIFIER_PARTS, Chunk
from cogo_pipelines.settings import get_settings
from cogo_pipelines.store import db, knowledge
from cogo_pipelines.store.fusion import STOPWORDS

APPS = ("umami", "storage", "ghostfolio", "rallly")
CODE = ("code", "module")

# ---- pieces of a code chunk that say what it is about ------------------------------------

_DOC = re.compile(r"/\*\*?(.*?)\*/|//(.*?)$", re.DOTALL | re.MULTILINE)
_STRING = re.compile(r"'((?:[^'\\\n]|\\.)*)'|\"((?:[^\"\\\n]|\\.)*)\"|`((?:[^`\\]|\\.)*)`", re.DOTALL)
_IMPORT_LINE = re.compile(
    r"^\s*(import|export)\b[^\n]*\bfrom\s*['\"][^'\"]*['\"];?|^\s*import\s*['\"][^'\"]*['\"];?|require\(\s*['\"][^'\"]*['\"]\s*\)",
    re.MULTILINE,
)
_CALL = re.compile(r"(?:\bnew\s+)?([A-Za-z_$][\w$]*)\s*(?:<[^<>()]*>)?\s*\(")
_JSX_TEXT = re.compile(r">([^<>{}]*[A-Za-z][^<>{}]*)<")
_TEMPLATE_EXPR = re.compile(r"\$\{[^}]*\}")
TS_KEYWORDS = frozenset(
    """abstract any as async await boolean break case catch class const constructor continue debugger
    declare default delete do else enum export extends false finally for from function get if implements
    import in infer instanceof interface is keyof let module namespace never new null number object of
    package private protected public readonly return set static string super switch symbol this throw
    true try type typeof undefined unique unknown var void while with yield""".split()  # noqa: SIM905
)
NOT_CALLS = TS_KEYWORDS | {"if", "for", "while", "switch", "catch", "function", "return", "super"}


def _words(text: str) -> list[str]:
    return [w.lower() for w in IDENTIFIER_PARTS.findall(text)]


def doc_comments(code: str) -> str:
    out = []
    for m in _DOC.finditer(code):
        body = m.group(1) if m.group(1) is not None else m.group(2)
        body = re.sub(r"^\s*\*+", " ", body, flags=re.MULTILINE)
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


def _code_only(fn):
    def text(c: Chunk) -> str:
        return fn(c) if c.chunk_type in CODE else c.embed_text()

    return text


def _lean(c: Chunk, body: str) -> str:
    return f"{c.header}\n{c.words()}\n{doc_comments(c.content)}\n{body}"


def _identifiers(c: Chunk) -> str:
    return " ".join(w for w in re.findall(r"[A-Za-z_$][\w$]*", c.content) if w not in TS_KEYWORDS)


# the embedded text of a chunk per variant (markdown, SQL and plain text keep today's text)
VARIANTS = {
    "main": lambda c: c.embed_text(),
    "meaning": _code_only(meaning),
    "meaning-raw": _code_only(lambda c: meaning(c, split=False)),
    "meaning+body400": _code_only(lambda c: meaning(c) + "\n" + c.content[:400]),
    "meaning+body": _code_only(lambda c: meaning(c) + "\n" + c.content),
    "meaning+words": _code_only(lambda c: meaning(c) + "\n" + " ".join(body_words(c.content, True))),
    "filtered": _code_only(lambda c: _lean(c, " ".join(body_words(c.content, False)))),
    "distinct": _code_only(lambda c: _lean(c, " ".join(body_words(c.content, True)))),
    "nopunct": _code_only(lambda c: f"{c.header}\n{c.words()}\n{_identifiers(c)}"),
    "body1000": _code_only(lambda c: f"{c.header}\n{c.words()}\n{c.content[:1000]}"),
}


def card(chunks: list[Chunk]) -> str:
    """A file's card: where it lives, the names it defines (split into words), its doc comments,
    header chains and SQL object names; one text per file."""
    first = chunks[0]
    names, docs = {}, []
    for c in chunks:
        name = c.symbol or c.object_name or c.header_chain
        if name:
            names.setdefault(" ".join(_words(name)), None)
        if c.chunk_type in CODE:
            docs.append(doc_comments(c.content))
    where = Chunk(first.path, "text", "", 0, 0).words()
    return "\n".join([first.path, where, " ".join(names), *filter(None, docs)])


# vector lists that are not one vector per chunk: (chunk variant, how). A card is entered in the
# vector list under its file's first chunk id, so the fusion counts it as one more chunk of the file.
LISTS = {
    "card-beside": ("main", "cards beside"),
    "card-instead": ("main", "cards instead"),
    "both-beside": ("meaning", "main beside"),  # each chunk twice: its meaning text and its whole text
    "random": ("main", "random"),  # the control: unit vectors that know nothing of the text
}
# the same text embedded by the transformer (questions too); not among the default variants
TRANSFORMER = {"minilm": "main"}
_encode = embedding.encode  # the real encode, before --query-words wraps the questions' one


def transformer_vectors(name: str, texts: list[str], cache: Path | None) -> tuple[np.ndarray, bool]:
    """(the transformer's unit vectors of ``texts``, whether read from ``cache``): encoding takes
    minutes per set here, so they are kept per set, keyed by the model and the exact texts."""
    key = hashlib.sha256("\0".join([embedding.model_key(embedding.TRANSFORMER_NAME), *texts]).encode(
        "utf-8", "surrogatepass")).hexdigest()[:16]  # fmt: skip
    path = cache / f"{name}-{key}.npy" if cache else None
    if path and path.is_file():
        return np.load(path), True
    matrix = _encode(texts, model=embedding.TRANSFORMER_NAME)
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, matrix)
    return matrix, False


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


def vector_list(model: str, variant: str, ids: list[str], chunks: list[Chunk], name: str = "",
                cache: Path | None = None):  # fmt: skip
    """(ids, unit vectors, embedded texts, whether the vectors came from the cache) of the variant's
    vector list."""
    if variant in TRANSFORMER:
        texts = [VARIANTS[TRANSFORMER[variant]](c) for c in chunks]
        matrix, cached = transformer_vectors(name, texts, cache)
        return ids, matrix, texts, cached
    base, how = LISTS.get(variant, (variant, None))
    texts = [VARIANTS[base](c) for c in chunks]
    matrix = static_embedding.encode(model, texts)
    if how == "random":
        matrix = np.random.default_rng(0).standard_normal(matrix.shape).astype(np.float32)
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    elif how == "main beside":
        matrix = np.vstack([matrix, static_embedding.encode(model, [c.embed_text() for c in chunks])])
        ids = ids + ids
    elif how in ("cards beside", "cards instead"):
        by_file: dict[str, list[int]] = {}
        for i, c in enumerate(chunks):
            by_file.setdefault(c.path, []).append(i)
        cards = static_embedding.encode(model, [card([chunks[i] for i in rows]) for rows in by_file.values()])
        card_ids = [ids[rows[0]] for rows in by_file.values()]
        matrix, ids = (
            (cards, card_ids) if how == "cards instead" else (np.vstack([matrix, cards]), ids + card_ids)
        )
    return ids, matrix, texts, False


def exact_ranking(ids: list[str], matrix: np.ndarray):
    """A stand-in for ``knowledge.vector_ranking``: exact cosine top-k over ``matrix``."""

    def ranking(conn, query_vector, repo, limit=knowledge.CANDIDATES):
        sims = matrix @ np.asarray(query_vector, dtype=np.float32)
        top = np.argsort(-sims, kind="stable")[:limit]
        return [(ids[i], float(sims[i])) for i in top]

    return ranking


def answer_rank(conn, name: str, question: str, relevant: set[str], mode: str) -> tuple[int, list[str]]:
    hits = knowledge.search(conn, question, k=retrieval_eval.CHUNK_DEPTH, repo=name, mode=mode)
    files = retrieval_eval.ranked_files(hits)
    return next((i + 1 for i, f in enumerate(files) if f in relevant), 0), files


class Run:
    """The figures of one run: means per variant and set, per-question hybrid NDCG, ranks, overlap."""

    def __init__(self) -> None:
        self.means: dict[str, dict[str, dict]] = {}
        self.ndcg: dict[str, dict[tuple[str, int], float]] = {}
        self.ranks: dict[tuple[str, int, str], dict[str, dict[str, int]]] = {}
        self.overlap: dict[str, list[float]] = {}

    def measure(self, conn, name: str, variant: str, questions, a) -> None:
        means, _latency, _misses = retrieval_eval.evaluate(conn, name, questions, modes=("hybrid", "vector"))
        self.means.setdefault(variant, {})[name] = means
        self.ndcg.setdefault(variant, {})  # the plain variant listed before its weights
        for w in filter(None, a.weights.split(",")):
            saved, knowledge.VECTOR_WEIGHT = knowledge.VECTOR_WEIGHT, float(w)
            try:
                at, _l, _m = retrieval_eval.evaluate(conn, name, questions, modes=("hybrid",))
                for qi, (question, relevant) in enumerate(questions):  # paired per question too
                    files = answer_rank(conn, name, question, relevant, "hybrid")[1]
                    self.ndcg.setdefault(f"{variant}@{w}", {})[(name, qi)] = retrieval_eval.metrics(
                        files, relevant, 10)["NDCG@10"]  # fmt: skip
            finally:
                knowledge.VECTOR_WEIGHT = saved
            self.means.setdefault(f"{variant}@{w}", {})[name] = {
                "hybrid": at["hybrid"],
                "vector": means["vector"],
            }
        for qi, (question, relevant) in enumerate(questions):
            _rank, files = answer_rank(conn, name, question, relevant, "hybrid")
            self.ndcg.setdefault(variant, {})[(name, qi)] = retrieval_eval.metrics(files, relevant, 10)[
                "NDCG@10"
            ]
            if a.overlap:  # how many of the vector side's top 10 files are keyword search's too
                tops = [
                    set(answer_rank(conn, name, question, relevant, m)[1][:10]) for m in ("vector", "keyword")
                ]
                self.overlap.setdefault(variant, []).append(len(tops[0] & tops[1]) / 10)
            if a.ranks:
                self.ranks.setdefault((name, qi, question), {})[variant] = {
                    m: answer_rank(conn, name, question, relevant, m)[0]
                    for m in ("hybrid", "vector", "keyword")
                }

    def report(self, sets: list[str], variants: list[str]) -> None:
        fmt = lambda m: f"{m['NDCG@10']:.3f}/{m['recall@5']:.3f}/{m['MRR']:.3f}".replace("0.", ".")
        print("hybrid | vector-only, NDCG@10/recall@5/MRR, file relevance, exact vector search")
        print("| variant | " + " | ".join(sets) + " | mean apps | mean all |")
        print("|---" * (len(sets) + 3) + "|")
        for variant, r in self.means.items():
            cells = [f"{fmt(r[s]['hybrid'])} \\| {fmt(r[s]['vector'])}" for s in sets]
            for group in ([s for s in sets if s in APPS], sets):
                if not group:
                    cells.append("–")
                    continue
                mean = {(mode, k): sum(r[s][mode][k] for s in group) / len(group)
                        for mode in ("hybrid", "vector") for k in ("NDCG@10", "recall@5")}  # fmt: skip
                cells.append(f"{mean['hybrid', 'NDCG@10']:.3f}/{mean['hybrid', 'recall@5']:.3f} \\| "
                             f"{mean['vector', 'NDCG@10']:.3f}".replace("0.", "."))  # fmt: skip
            print(f"| {variant} | " + " | ".join(cells) + " |")
        for variant, shares in self.overlap.items():
            print(
                f"top-10 files shared by the vector and keyword lists, {variant}: {sum(shares) / len(shares):.2f}"
            )
        if self.ranks:
            print("\nanswer rank hybrid/vector per variant (0 = not listed); keyword's first")
            for (name, _qi, question), per in self.ranks.items():
                cells = "  ".join(f"{v}:{g['hybrid']}/{g['vector']}" for v, g in per.items())
                print(f"[{name}] kw {next(iter(per.values()))['keyword']:>3}  {cells}  {question[:70]}")
        first = variants[0]
        print(f"\nhybrid NDCG@10 per question, paired against {first} "
              "(mean difference ± standard error; questions better / worse)")  # fmt: skip
        for label, group in (("apps", [s for s in sets if s in APPS]), ("all", sets)):
            for variant in [v for v in self.ndcg if v != first]:  # every other variant and weight
                diffs = [d - self.ndcg[first][k] for k, d in self.ndcg[variant].items() if k[0] in group]
                if len(diffs) < 2:
                    continue
                mean = sum(diffs) / len(diffs)
                se = (sum((d - mean) ** 2 for d in diffs) / (len(diffs) - 1) / len(diffs)) ** 0.5
                print(f"  {label:<5} {variant:<16} {mean:+.3f} ± {se:.3f}  "
                      f"{sum(d > 1e-9 for d in diffs)} / {sum(d < -1e-9 for d in diffs)} of {len(diffs)}")  # fmt: skip


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sets", default=",".join(retrieval_suite.SETS))
    p.add_argument("--variants", default=",".join([*VARIANTS, *LISTS]),
                   help=f"the first is the reference; also {', '.join(TRANSFORMER)} (the transformer)")  # fmt: skip
    p.add_argument("--weights", default="", help="also hybrid at these vector weights (comma list)")
    p.add_argument("--query-words", action="store_true", help="embed each question without its stop words")
    p.add_argument("--overlap", action="store_true", help="print the vector and keyword top-10 file overlap")
    p.add_argument("--ranks", action="store_true", help="print each question's answer rank per variant")
    p.add_argument("--cache", type=Path, help="keep the transformer's chunk vectors per set in this folder")
    p.add_argument("--show", help="print the embedded text of chunks whose symbol is this, per variant")
    a = p.parse_args()
    model = str(static_embedding.ensure(get_settings().cogo_home.resolve()))
    if a.query_words:  # the question's vector without "how", "the", "of"... (fusion.STOPWORDS)
        real_encode = embedding.encode
        embedding.encode = lambda texts, **kw: real_encode(
            [" ".join(w for w in t.split() if w.lower().strip("?,.:") not in STOPWORDS) for t in texts], **kw
        )
    variants, sets = a.variants.split(","), a.sets.split(",")
    run, real_ranking = Run(), knowledge.vector_ranking
    with db.connect() as conn:
        for name in sets:
            questions = retrieval_eval.load_questions(retrieval_suite.SETS[name][1])
            ids, chunks = chunks_of(conn, name)
            for variant in variants:
                t = time.perf_counter()
                list_ids, matrix, texts, cached = vector_list(model, variant, ids, chunks, name, a.cache)
                seconds = time.perf_counter() - t
                if a.show:
                    for c, text in zip(chunks, texts, strict=True):
                        if c.symbol == a.show:
                            print(f"--- {name} {variant} {c.path}\n{text}\n", file=sys.stderr)
                knowledge.vector_ranking = exact_ranking(list_ids, matrix)
                query_encode = embedding.encode  # the questions by the chunks' model
                if variant in TRANSFORMER:
                    embedding.encode = functools.partial(query_encode, model=embedding.TRANSFORMER_NAME)
                try:
                    run.measure(conn, name, variant, questions, a)
                finally:
                    knowledge.vector_ranking, embedding.encode = real_ranking, query_encode
                h, v = run.means[variant][name]["hybrid"], run.means[variant][name]["vector"]
                print(f"{name:<12} {variant:<16} hybrid {h['NDCG@10']:.3f}/{h['recall@5']:.3f}/{h['MRR']:.3f}"
                      f"  vector {v['NDCG@10']:.3f}/{v['recall@5']:.3f}/{v['MRR']:.3f}  texts + encode {seconds:.1f} s{' (cached)' if cached else ''},"
                      f" {sum(map(len, texts)) / len(texts):.0f} chars per chunk", file=sys.stderr, flush=True)  # fmt: skip
    run.report([s for s in sets if s in run.means.get(variants[0], {})], variants)
    return 0


if __name__ == "__main__":
    sys.exit(main())
