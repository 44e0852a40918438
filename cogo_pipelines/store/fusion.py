"""One ranking out of the keyword list and the vector list of chunks: files first, then chunks.

Why files: a question asks where something lives, and the answer is a file (every benchmark
counts the first chunk of each file). A file whose several chunks match is a better answer than
one lucky chunk elsewhere, and the two sides agree far more often on the file than on the chunk
(Zod's 900-chunk ``schemas.ts``: each side picks another of its chunks). So:

1. per list, each chunk's score is scaled: by ``TEST_FACTOR`` in a test file or a Storybook story
   (they repeat the names of the code they exercise, and a question about how something works
   wants the implementation), by ``HISTORY_FACTOR`` in a project's history (``CHANGELOG.md``,
   ``HISTORY``, release notes: a line per change names every feature, so it matches every
   question and answers none of "where" or "how"), by ``GENERATED_FACTOR`` in a file a tool
   wrote (its header says so, ``indexing.generated``: payload's 12,000-line
   ``cloudflare-env.d.ts`` names every binding and matched questions about all of them; the
   answer is the code the generator read or the code that uses it), and by ``1 + RANK_BOOST · rank`` (the graph
   rank: entry proximity and runtime frequency, DESIGN §3; it re-orders near-ties only);
2. per list, a file scores its best chunk plus ``FILE_SHARE`` of its other chunks, each worth
   ``FILE_DECAY`` times less than the one before (a long file does not win by length alone),
   then the list's file scores are divided by its best one, so how sure each side is survives
   (a file far ahead on BM25 stays ahead);
3. the two file lists are summed, ``KEYWORD_WEIGHT`` and ``VECTOR_WEIGHT``; a query that is one
   bare identifier has no vector list (the caller skips it: a sentence model knows nothing of a
   name beyond its sub-words). A file missing from one list is not scored 0 there: each list is
   a top-k cut, so the file scores about that list's lowest file at most, and it takes that
   bound (``absent_bound``; its chunks each score at most the list's lowest chunk). With 0
   instead, presence in the vector list was a step: the static cosines are flat at the top
   (best file .50, 10th .47, last .29), so every listed file got about 0.9 of the vector weight
   and an unlisted one none, and a file that keyword search ranked 3rd but the vector list
   lacked fell to 9th–27th;
4. a file whose name (its folder's, for ``index.ts``, ``route.ts``…) spells words of the
   question gets ``NAME_BOOST`` of the best score per matched word (scaled by the square root of
   the number of question words): ``webhook.ts`` for a question on webhooks;
5. each chunk then takes its file's score times ``0.5 + 0.5 · its share of the file's best
   chunk``, so the best chunk of each file carries the file's rank and the others follow;
6. where a warm process gave a summary list (``store/file_summaries.py``: the files nearest the
   question by a sentence transformer, min-max scaled over its top 100), the file scores are
   divided by the best one and ``SUMMARY_WEIGHT`` × the file's place in that list is added; a
   file only that list names enters with its ``leads`` chunk (the caller picks it), from the
   lowest fused file score (the bound of step 3: the other lists are top-k cuts). The
   transformer bridges paraphrases that neither the keyword side nor the static vectors do
   (formbricks .520 → .685, docs/RAG.md);
7. a result list shows at most ``PER_FILE`` chunks of one file while other files have chunks to
   show (``top_chunks``): a file that matches everywhere (payload's ``createImageSizes.ts``, cut
   into six chunks) took 7 of a top 8 and hid every other candidate file from the agent reading
   the list. Only a file's later chunks give way, never its best one, so the order of the files
   (what the benchmarks score) is the same.

Measured on seven question sets (tRPC, Zod, four held-out application repos, the sample) with
``bench/retrieval_suite.py``; the figures are in docs/RAG.md. Pure: no database.
"""

from __future__ import annotations

import functools
import math
import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence

from cogo_pipelines.indexing.chunk import IDENTIFIER_PARTS

KEYWORD_WEIGHT = 1.0
VECTOR_WEIGHT = 0.5  # static vectors are the weaker side; at file level they still add (Zod +.06)
FILE_SHARE = 0.1
FILE_DECAY = 0.8
NAME_BOOST = 0.2
RANK_BOOST = 0.1
TEST_FACTOR = 0.5
GENERATED_FACTOR = 0.5
PER_FILE = 3
SUMMARY_WEIGHT = 0.5  # the same weight as the chunk vector list: a second semantic opinion
# a project's history: one line per change names every feature, so it matches every question, yet
# it answers "what changed when", not "how does it work" or "where is it"
HISTORY_FACTOR = 0.5
HISTORY_PATH = re.compile(
    r"(^|/)((?i:change-?log|release[-_ ]?notes)|CHANGES|HISTORY|RELEASES|NEWS)([-_.][^/]*)?\.(?i:md|mdx|markdown|rst|txt)$"
)
TEST_PATH = re.compile(
    r"(^|/)(__tests__|__mocks__|tests?|spec|fixtures?)/|[._-](test|spec|stories|story)\.[a-z]+$"
)
# file names that say nothing of their content: the folder names the file instead
GENERIC_NAMES = frozenset(
    "index route page layout types type utils util helpers constants main mod migration readme".split()  # noqa: SIM905
)
_STOPWORDS = (
    "a an and are as at be by can do does for from has have how if in into is it its not of on one or"
)
STOPWORDS = frozenset(f"{_STOPWORDS} that the this to was what when where which who why with".split())

Ranking = Sequence[tuple[str, float]]  # (chunk id, score), best first


@functools.lru_cache(maxsize=1 << 16)
def name_words(path: str) -> frozenset[str]:
    """Lower-case words of a file's name (``signature-v4-stream.ts`` → signature, stream), with the
    folder's words when the name is generic (``websites/[id]/reset/route.ts`` → reset), plurals
    also in the singular."""
    segments = path.split("/")
    stem = segments[-1].split(".", 1)[0]
    words = {w.lower() for w in IDENTIFIER_PARTS.findall(stem)}
    if len(segments) > 1 and (stem.lower() in GENERIC_NAMES or not words - GENERIC_NAMES):
        words |= {w.lower() for w in IDENTIFIER_PARTS.findall(segments[-2])}
    words = {w for w in words if len(w) > 2 and not w.isdigit()} - GENERIC_NAMES
    return frozenset(words | {_singular(w) for w in words})


def _singular(word: str) -> str:
    """``prefixes`` → ``prefix``, ``objects`` → ``object`` (enough to match a question's word)."""
    if word.endswith(("xes", "ses", "ches", "shes")):
        return word[:-2]
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def query_words(query: str) -> frozenset[str]:
    words = {w.lower() for w in IDENTIFIER_PARTS.findall(query)}
    return frozenset(w for w in words if len(w) > 2 and w not in STOPWORDS and not w.isdigit())


def _chunk_factor(path: str, rank: float, generated: bool = False) -> float:
    factor = (TEST_FACTOR if TEST_PATH.search(path) else HISTORY_FACTOR if HISTORY_PATH.search(path)
              else GENERATED_FACTOR if generated else 1.0)
    return factor * (1 + RANK_BOOST * min(1.0, max(0.0, rank)))


def absent_bound(
    listed: Sequence[tuple[float, Mapping[str, float]]], files: Iterable[str]
) -> dict[str, float]:
    """file -> what it gets from the lists it is missing from: each list's weight times its
    lowest normalised file score (the list is a top-k cut: each chunk of a file outside it scores
    at most the list's lowest chunk, so the file about that list's lowest file at most; 0 would
    make mere presence in a list a step)."""
    out: dict[str, float] = defaultdict(float)
    for weight, scores in listed:
        floor = min(scores.values())
        for path in files:
            if path not in scores:
                out[path] += weight * floor
    return out


def fuse(
    rankings: Sequence[tuple[Ranking, float]],
    paths: Mapping[str, str],
    ranks: Mapping[str, float] | None = None,
    query: str = "",
    generated: Collection[str] = (),
    summaries: Mapping[str, float] | None = None,
    leads: Mapping[str, str] | None = None,
) -> dict[str, float]:
    """chunk id -> score (higher is better) over the chunks of ``rankings`` (each a list and its
    weight); ``paths`` maps every chunk id to its file, ``ranks`` to its graph rank; ``generated``
    holds the chunks of files a tool wrote; ``summaries`` is the summary list (path -> 0..1) and
    ``leads`` the chunk that stands for each file only it names (path -> chunk id)."""
    ranks = ranks or {}
    file_scores: dict[str, float] = defaultdict(float)
    chunk_scores: dict[str, float] = defaultdict(float)
    listed: list[tuple[float, dict[str, float]]] = []  # (weight, normalised file scores) per list
    for ranked, weight in rankings:
        scaled = [(cid, max(0.0, s) * _chunk_factor(paths[cid], ranks.get(cid, 0.0), cid in generated))
                  for cid, s in ranked]
        best_chunk = max((s for _, s in scaled), default=0.0)
        if weight <= 0 or best_chunk <= 0:
            continue
        per_file: dict[str, list[float]] = defaultdict(list)
        for cid, s in scaled:
            per_file[paths[cid]].append(s)
            chunk_scores[cid] += weight * s / best_chunk
        totals = {}
        for path, scores in per_file.items():
            scores.sort(reverse=True)
            totals[path] = scores[0] + FILE_SHARE * sum(s * FILE_DECAY**i for i, s in enumerate(scores[1:]))
        best_file = max(totals.values())
        normalised = {path: total / best_file for path, total in totals.items()}
        for path, score in normalised.items():
            file_scores[path] += weight * score
        listed.append((weight, normalised))
    if len(listed) > 1:
        for path, bound in absent_bound(listed, file_scores).items():
            file_scores[path] += bound
    summaries = summaries or {}
    leads = {path: cid for path, cid in (leads or {}).items() if path in summaries and path not in file_scores}
    if not file_scores and not leads:
        return {}
    wanted = query_words(query)
    if wanted and NAME_BOOST and file_scores:
        unit = NAME_BOOST * max(file_scores.values()) / math.sqrt(len(wanted))
        for path in file_scores:
            names = name_words(path)
            matched = sum(1 for w in wanted if w in names or _singular(w) in names)
            file_scores[path] += unit * matched
    if summaries:
        best = max(file_scores.values(), default=0.0) or 1.0
        for path in list(file_scores):
            file_scores[path] /= best
        # a file only the summary list names was cut from the other lists: it scores what their
        # lowest file does at most, and takes that bound, as in step 3 (with 0 it entered at 0.5
        # at best, below every candidate that scored half the best: payload's answer, first in
        # the summary list, came 128th)
        floor = min(file_scores.values(), default=0.0)
        for path in leads:
            file_scores[path] = floor
        for path, place in summaries.items():
            if path in file_scores:
                file_scores[path] += SUMMARY_WEIGHT * place
        for path, cid in leads.items():
            chunk_scores[cid] = 1.0  # the file's one chunk here: it carries the file's score
    best_in_file: dict[str, float] = defaultdict(float)
    for cid, s in chunk_scores.items():
        best_in_file[paths[cid]] = max(best_in_file[paths[cid]], s)
    return {
        cid: file_scores[paths[cid]]
        * (0.5 + 0.5 * s / best_in_file[paths[cid]] if best_in_file[paths[cid]] else 0.5)
        for cid, s in chunk_scores.items()
    }


def top_chunks(scores: Mapping[str, float], paths: Mapping[str, str], k: int, per_file: int = PER_FILE) -> list[str]:
    """The ``k`` best chunks of ``scores``, best first, at most ``per_file`` of one file unless
    the other files run out of chunks first (then the rest fill the list, best first)."""
    taken: list[str] = []
    held_back: list[str] = []
    shown: dict[str, int] = defaultdict(int)
    for cid in sorted(scores, key=lambda c: (-scores[c], c)):
        if len(taken) == k:
            break
        if shown[paths[cid]] < per_file:
            shown[paths[cid]] += 1
            taken.append(cid)
        else:
            held_back.append(cid)
    return sorted(taken + held_back[: k - len(taken)], key=lambda c: (-scores[c], c))
