"""Does one short "file card" per file, embedded by the real MiniLM, close the application gap?

    COGO_HOME=… COGO_BENCH_REPOS=… HF_HUB_OFFLINE=1 PYTHONPATH=$PWD \
        python bench/file_cards.py [--sets trpc,zod,…] [--pages] [--calls] [--show-cards 3]

Reads a store that ``bench/retrieval_suite.py`` indexed (same ``COGO_HOME``; nothing is
re-indexed here). Per file it builds a card from the store's chunks: the path's words
(identifiers split, extension dropped), the names of its top-level symbols in words, their
signatures (shortened), the first sentence of each doc comment, markdown title and headings,
SQL objects and the columns of created tables; ``--calls`` appends the names its code calls
(first 20, in words); a card is cut at 1,000 characters, or with ``--pages`` into pages of
700 (each headed by the path's words; the file scores its best page, as ``fuse`` aggregates a
file's chunks). The cards are embedded by all-MiniLM-L6-v2 (the
transformer, in-process, torch; cached by text under ``$COGO_HOME/card-cache``), the questions
too, and the card list is an exact cosine ranking of every file.

Per set it prints NDCG@10 / recall@5 / MRR (file relevance, as ``retrieval_eval.py``) for:

- ``main``: today's hybrid (keyword + static chunk vectors, ``fusion.fuse``), recomputed here
  from the same two candidate lists the search reads (checked against ``retrieval_suite``);
- ``cards``: the card list alone;
- ``main+cards``: the card list as a third list of ``fusion.fuse`` at the static vectors'
  weight (``VECTOR_WEIGHT``): each card is one "chunk" of its file, top 100 files;
- ``kw+cards``: the card list in place of the static vector list, same weight;
- ``main+cards-floor``: as ``main+cards`` with each card cosine minus the 100th file's (the
  list's step at its cut removed: cosines of cards are flat, so divided by the best they would
  all be near 1).

One weight for every set (no per-set tuning), every form reported on all seven sets.
Outcome (2026-12-03, docs/RAG.md "File cards"): no form lifts the four application sets by
.03 NDCG@10 without another set falling more than .01, so cards were not built into search.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
import retrieval_eval
import retrieval_suite

from cogo_pipelines.indexing import embedding
from cogo_pipelines.indexing.chunk import IDENTIFIER_PARTS
from cogo_pipelines.settings import get_settings
from cogo_pipelines.store import db, fusion, knowledge

CARD_CANDIDATES = 100  # card files passed to fusion, like each chunk list's top 100
MAX_CARD_CHARS = 1000  # MiniLM reads 256 word pieces; the card's head carries the most
_DOC = re.compile(r"/\*\*?(.*?)\*/|((?:^[ \t]*//[^\n]*\n)+)", re.DOTALL | re.MULTILINE)
_SQL_COLUMN = re.compile(r"^\s*\"?([A-Za-z_][\w]*)\"?\s+[A-Za-z]", re.MULTILINE)
_SQL_KEYWORDS = (
    "constraint primary foreign unique check create alter insert update delete select drop grant"
    " comment on references index begin end if return declare"
)
_SQL_NOT_COLUMN = frozenset(_SQL_KEYWORDS.split())


_MD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_CALL = re.compile(r"\b([A-Za-z_$][\w$]*)\s*(?:<[^<>()]*>)?\(")
_JS_WORDS = (
    "if for while switch catch return function typeof await async new super this import require"
    " constructor get set then catch map filter push slice join"
)
_NOT_CALLS = frozenset(_JS_WORDS.split())
CALLS_PER_CARD = 20


def words(text: str) -> str:
    return " ".join(IDENTIFIER_PARTS.findall(text)).lower()


def first_sentence(comment: str) -> str:
    """The first sentence of a doc comment, tags and comment marks dropped."""
    lines = []
    for line in comment.splitlines():
        line = line.strip().lstrip("/*").strip()
        if line.startswith("@"):
            break
        if line:
            lines.append(line)
    text = " ".join(lines)
    m = re.search(r"(.+?[.!?])(\s|$)", text)
    return (m.group(1) if m else text)[:200]


def leading_doc(content: str) -> str:
    """The doc comment at the head of a chunk (chunks start at their symbol's comment)."""
    m = _DOC.match(content.lstrip())
    if not m:
        return ""
    return first_sentence(m.group(1) or m.group(2) or "")


def path_words(path: str) -> str:
    stem = path.rsplit(".", 1)[0]
    return words(stem.replace("/", " "))


def build_cards(conn, repo: str, calls: bool = False, pages: bool = False) -> dict[str, list[str]]:
    """path -> [card text] (``pages``: the card cut into pages), from the store's chunks of
    ``repo``; ``calls``: the names the file's code calls (in words, the first ``CALLS_PER_CARD``)
    are appended (what a handler does lives in what it calls: the reset route calls
    ``resetWebsite``)."""
    rows = conn.execute(
        "SELECT path, chunk_type, symbol, kind, signature, header_chain, object_name, content, start_line"
        " FROM code_chunks WHERE repo = %s ORDER BY path, start_line, part",
        (repo,),
    ).fetchall()
    by_file: dict[str, list] = defaultdict(list)
    for r in rows:
        by_file[r["path"]].append(r)
    cards = {}
    for path, chunks in by_file.items():
        parts = card_lines(path, chunks, calls)
        cards[path] = _pages(parts) if pages else ["\n".join(parts)[:MAX_CARD_CHARS]]
    return cards


def card_lines(path: str, chunks: list, calls: bool) -> list[str]:
    """The card's lines, each said once: path words first, then per chunk in file order."""
    parts: list[str] = [path_words(path)]
    seen: set[str] = set()

    def add(text: str) -> None:
        text = text.strip()
        if text and text not in seen:
            seen.add(text)
            parts.append(text)

    for c in chunks:
        if c["chunk_type"] == "markdown":
            for title in (c["header_chain"] or "").split(" > "):
                add(_MD_LINK.sub(r"\1", _MD_IMAGE.sub("", title.lstrip("#"))).strip())
        elif c["chunk_type"] == "sql":
            add(f"{c['kind'] or 'statement'} {words(c['object_name'] or '')}".strip())
            if (c["kind"] or "").lower().endswith("table"):
                cols = [m for m in _SQL_COLUMN.findall(c["content"]) if m.lower() not in _SQL_NOT_COLUMN]
                add(" ".join(dict.fromkeys(words(col) for col in cols)))
        elif c["symbol"] and "." not in c["symbol"]:  # top-level symbols only
            add(leading_doc(c["content"]))
            name = f"{c['kind'] or ''} {words(c['symbol'])}".strip()
            signature = re.sub(r"\s+", " ", c["signature"] or "")[:120]
            add(f"{name}: {signature}" if signature else name)
        elif c["chunk_type"] == "module" and len(parts) < 3:
            add(leading_doc(c["content"]))
    if calls:
        called = []
        for c in chunks:
            if c["chunk_type"] in ("code", "module"):
                called += [m for m in _CALL.findall(c["content"]) if m not in _NOT_CALLS and len(m) > 2]
        add(" ".join(list(dict.fromkeys(words(m) for m in called))[:CALLS_PER_CARD]))
    return parts


PAGE_CHARS = 700  # about 180 word pieces: a page fits MiniLM's window whole


def _pages(parts: list[str]) -> list[str]:
    """The card cut into pages of whole lines, each headed by the path's words (a large file's
    symbols are not lost past the model's window: the file scores its best page)."""
    head, pages, page = parts[0], [], [parts[0]]
    for line in parts[1:]:
        line = line[:PAGE_CHARS]
        if len(page) > 1 and sum(len(x) + 1 for x in page) + len(line) > PAGE_CHARS:
            pages.append("\n".join(page))
            page = [head]
        page.append(line)
    pages.append("\n".join(page))
    return pages


def cached_encode(texts: list[str], cache_dir: Path) -> tuple[np.ndarray, float]:
    """MiniLM vectors of ``texts`` (cached by text hash); seconds spent encoding the misses."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    keys = [hashlib.sha256(t.encode("utf-8", "surrogatepass")).hexdigest()[:24] for t in texts]
    out = np.zeros((len(texts), embedding.DIMENSIONS), dtype=np.float32)
    missing = []
    for i, k in enumerate(keys):
        f = cache_dir / f"{k}.npy"
        if f.exists():
            out[i] = np.load(f)
        else:
            missing.append(i)
    seconds = 0.0
    if missing:
        embedding.get_model(embedding.TRANSFORMER_NAME)  # load outside the timing
        t = time.perf_counter()
        vectors = embedding.encode([texts[i] for i in missing], model=embedding.TRANSFORMER_NAME)
        seconds = time.perf_counter() - t
        for i, v in zip(missing, vectors, strict=True):
            out[i] = v
            np.save(cache_dir / f"{keys[i]}.npy", v)
    return out, seconds


def ranked_files(scores: dict[str, float], paths: dict[str, str]) -> list[str]:
    best: dict[str, float] = {}
    for cid, s in scores.items():
        p = paths[cid]
        if s > best.get(p, float("-inf")):
            best[p] = s
    return sorted(best, key=lambda p: (-best[p], p))


FORMS = ("main", "cards", "main+cards", "kw+cards", "main+cards-floor")


def evaluate_set(
    conn, name: str, questions, cache_dir: Path, show_cards: int, calls: bool, pages: bool
) -> tuple[dict, dict]:
    cards = build_cards(conn, name, calls, pages)
    files = sorted(cards)
    for path in files[:show_cards]:
        print(f"--- card {name}:{path}\n" + "\n~~~\n".join(cards[path]), file=sys.stderr)
    units = [(p, i) for p in files for i in range(len(cards[p]))]
    card_vectors, card_seconds = cached_encode([cards[p][i] for p, i in units], cache_dir)
    q_static = embedding.encode([q for q, _ in questions])
    q_minilm = embedding.encode([q for q, _ in questions], model=embedding.TRANSFORMER_NAME)
    light = conn.execute("SELECT id, path, rank FROM code_chunks WHERE repo = %s", (name,)).fetchall()
    paths = {r["id"]: r["path"] for r in light}
    ranks = {r["id"]: r["rank"] or 0.0 for r in light}
    file_rank: dict[str, float] = defaultdict(float)
    for r in light:
        file_rank[r["path"]] = max(file_rank[r["path"]], r["rank"] or 0.0)
    for p, i in units:
        paths[f"card:{p}#{i}"] = p
        ranks[f"card:{p}#{i}"] = file_rank[p]
    totals = {f: defaultdict(float) for f in FORMS}
    for (question, relevant), qs, qm in zip(questions, q_static, q_minilm, strict=True):
        lookup = knowledge._IDENTIFIER.fullmatch(question.strip()) is not None
        with conn.transaction():
            kw = knowledge.keyword_ranking(conn, question, name)
            vec = [] if lookup else knowledge.vector_ranking(conn, qs, name, knowledge.VECTOR_CANDIDATES)
        cos = card_vectors @ qm
        card, listed = [], set()
        for j in np.argsort(-cos)[: 8 * CARD_CANDIDATES]:
            p, i = units[j]
            if p in listed or len(listed) < CARD_CANDIDATES:
                listed.add(p)
                card.append((f"card:{p}#{i}", float(cos[j])))
        floor = card[-1][1]
        card_floor = [(cid, s - floor + 1e-6) for cid, s in card]
        kw_w, vec_w = fusion.KEYWORD_WEIGHT, fusion.VECTOR_WEIGHT
        lists = {
            "main": [(kw, kw_w), (vec, vec_w)],
            "cards": [(card, 1.0)],
            "main+cards": [(kw, kw_w), (vec, vec_w), (card, vec_w)],
            "kw+cards": [(kw, kw_w), (card, vec_w)],
            "main+cards-floor": [(kw, kw_w), (vec, vec_w), (card_floor, vec_w)],
        }
        for form, rankings in lists.items():
            scores = fusion.fuse([(r, w) for r, w in rankings if r], paths, ranks, question)
            got = ranked_files(scores, paths)
            for metric, value in retrieval_eval.metrics(got, relevant, 10).items():
                totals[form][metric] += value
    n = len(questions)
    return {f: {m: v / n for m, v in t.items()} for f, t in totals.items()}, {
        "files": len(files),
        "units": len(units),
        "card_s": card_seconds,
        "card_chars": sum(len(x) for c in cards.values() for x in c) / max(1, len(units)),
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sets", default=",".join(retrieval_suite.SETS))
    p.add_argument("--show-cards", type=int, default=0)
    p.add_argument("--pages", action="store_true", help="cards cut into pages of PAGE_CHARS, not truncated")
    p.add_argument("--calls", action="store_true", help="cards also name what the file's code calls")
    a = p.parse_args()
    cache_dir = get_settings().cogo_home.resolve() / "card-cache"
    rows = {}
    with db.connect() as conn:
        for name in a.sets.split(","):
            _repo, questions_file, _include = retrieval_suite.SETS[name]
            questions = retrieval_eval.load_questions(questions_file)
            rows[name] = evaluate_set(conn, name, questions, cache_dir, a.show_cards, a.calls, a.pages)
            means, info = rows[name]
            print(f"{name}: {info['files']} cards, {info['units']} pages (mean {info['card_chars']:.0f} chars), "
                  f"MiniLM encode {info['card_s']:.1f} s", file=sys.stderr)  # fmt: skip
    shown = retrieval_suite.SHOWN
    print("NDCG@10 / recall@5 / MRR, file relevance")
    print(f"| set | {' | '.join(FORMS)} | cards | card encode s |")
    print("|---" * (len(FORMS) + 3) + "|")
    for name, (means, info) in rows.items():
        cells = [" / ".join(f"{means[f][s]:.3f}".lstrip("0") for s in shown) for f in FORMS]
        print(f"| {name} | {' | '.join(cells)} | {info['files']} | {info['card_s']:.1f} |")
    for label, names in (("mean of the sets", list(rows)), ("mean of apps", [n for n in rows if n in APPS])):
        if not names:
            continue
        cells = [
            " / ".join(f"{sum(rows[n][0][f][s] for n in names) / len(names):.3f}".lstrip("0") for s in shown)
            for f in FORMS
        ]
        print(f"| {label} | {' | '.join(cells)} | | |")
    return 0


APPS = ("umami", "storage", "ghostfolio", "rallly")

if __name__ == "__main__":
    sys.exit(main())
