"""File-level score fusion keeps a clear keyword winner ahead; a chunk-format change re-chunks a stored repo."""

from __future__ import annotations

from pathlib import Path

from cogo_pipelines.indexing.chunk import CHUNK_FORMAT, Chunk
from cogo_pipelines.pipeline import index_run
from cogo_pipelines.store import fusion, knowledge


def test_fusion_keeps_a_clear_keyword_winner_over_a_vector_near_tie():
    keyword = [("a", 12.0), ("b", 3.0), ("c", 2.9)]
    vector = [("c", 0.52), ("b", 0.51), ("a", 0.50)]  # the sentence model barely prefers c
    paths = {"a": "src/a.ts", "b": "src/b.ts", "c": "src/c.ts"}
    scores = fusion.fuse([(keyword, fusion.KEYWORD_WEIGHT), (vector, fusion.VECTOR_WEIGHT)], paths)
    assert max(scores, key=scores.get) == "a"
    assert fusion.fuse([([("x", -0.1)], 1.0)], {"x": "src/x.ts"}) == {}  # nothing positive: no evidence


def test_a_file_the_two_sides_agree_on_beats_one_lucky_chunk():
    # keyword: a lone chunk of other.ts narrowly first; vector: a different chunk of big.ts first.
    # Per chunk the sides disagree; per file both put big.ts near the top.
    paths = {"o1": "src/other.ts", "b1": "src/big.ts", "b2": "src/big.ts", "v1": "src/vec.ts"}
    keyword = [("o1", 10.0), ("b1", 9.0)]
    vector = [("b2", 0.6), ("v1", 0.59), ("o1", 0.2)]
    scores = fusion.fuse([(keyword, 1.0), (vector, 0.5)], paths)
    best = max(scores, key=scores.get)
    assert paths[best] == "src/big.ts"
    # every chunk of a file follows the file's best chunk, and keeps a score below it
    assert scores["b1"] != scores["b2"] and max(scores["b1"], scores["b2"]) == scores[best]


def test_a_file_missing_from_the_vector_list_is_not_pushed_below_weaker_keyword_matches():
    # keyword search ranks b second; the vector list (a top-k cut, cosines flat at the top) lacks
    # it. Scored 0 there, b fell behind c, which keyword search puts well below it; a missing
    # file takes the list's lowest score instead (it scores at most that), so b stays ahead.
    paths = {k: f"src/{k}.ts" for k in "abcdef"}
    keyword = [("a", 10.0), ("b", 9.0), ("c", 6.5), ("d", 3.0)]
    vector = [("a", 0.50), ("c", 0.49), ("e", 0.48), ("f", 0.30)]
    scores = fusion.fuse([(keyword, 1.0), (vector, 0.5)], paths)
    assert sorted(scores, key=scores.get, reverse=True)[:3] == ["a", "b", "c"]
    # the bound: each list's weight times its lowest normalised file score, for the lists a file misses
    bound = fusion.absent_bound([(1.0, {"x": 1.0, "y": 0.25}), (0.5, {"x": 1.0, "z": 0.6})], ["x", "y", "z"])
    assert bound == {"y": 0.5 * 0.6, "z": 1.0 * 0.25}


def test_a_file_named_by_the_question_moves_up_and_tests_move_down():
    paths = {"h": "src/http/plugins/header-validator.ts", "w": "src/storage/events/webhook.ts",
             "t": "src/storage/events/webhook.test.ts"}  # fmt: skip
    keyword = [("h", 10.0), ("t", 9.8), ("w", 9.5)]
    scores = fusion.fuse([(keyword, 1.0)], paths, query="send object events to a webhook")
    assert sorted(scores, key=scores.get, reverse=True) == ["w", "h", "t"]
    # Storybook stories are demos of a component, like tests: the component is the answer
    assert fusion.TEST_PATH.search("libs/ui/src/lib/logo/logo.component.stories.ts")
    assert not fusion.TEST_PATH.search("src/features/stories/story-list.tsx")


def test_a_changelog_names_the_feature_but_the_code_that_does_it_comes_first():
    # ghostfolio's 10,000-line CHANGELOG.md mentions every feature in a line, so its best chunk
    # often beats the file that implements what a question asks about; it is history, not the answer
    paths = {
        "c": "CHANGELOG.md",
        "s": "apps/api/src/services/rate-limit.service.ts",
        "d": "docs/rate-limits.md",
    }
    keyword = [("c", 10.0), ("s", 8.0), ("d", 2.0)]
    scores = fusion.fuse([(keyword, 1.0)], paths, query="how are requests throttled")
    assert sorted(scores, key=scores.get, reverse=True) == ["s", "c", "d"]
    history = [
        "CHANGELOG.md",
        "packages/core/CHANGELOG.md",
        "HISTORY.rst",
        "docs/release-notes.md",
        "NEWS.md",
    ]
    assert all(fusion.HISTORY_PATH.search(p) for p in history)
    features = [
        "docs/history.md",
        "src/lib/changelog.ts",
        "src/app/history/page.tsx",
        "docs/releases/setup.md",
    ]
    assert not any(fusion.HISTORY_PATH.search(p) for p in features)


def test_name_words_take_the_folder_of_a_generic_file_name():
    assert {"reset"} <= fusion.name_words("src/app/api/websites/[websiteId]/reset/route.ts")
    assert {"signature", "stream"} <= fusion.name_words("src/protocols/s3/signature-v4-stream.ts")
    assert "route" not in fusion.name_words("src/app/api/send/route.ts")
    assert "prefix" in fusion.name_words("migrations/tenant/0026-objects-prefixes.sql")
    assert fusion.query_words("How does the runner claim a job?") == {"runner", "claim", "job"}


def test_embed_text_spells_the_name_and_file_as_words():
    text = Chunk(
        "src/v4/core/resolveResponse.ts", "code", "body", 1, 2, symbol="ZodType.parse", kind="method"
    ).embed_text()
    lines = text.splitlines()
    assert lines[0].startswith("src/v4/core/resolveResponse.ts | method ZodType.parse")
    assert lines[1] == "zod type parse method in core resolve response"
    assert lines[-1] == "body"


def test_chunks_of_an_older_chunk_format_are_redone(seeded_conn, sample_copy: Path):
    conn = seeded_conn
    first = index_run.run_index(conn, sample_copy, embed=False)
    assert first.rechunked_files == 35
    conn.execute("UPDATE chunked_files SET chunk_format = %s WHERE path LIKE 'src/%%'", (CHUNK_FORMAT - 1,))
    conn.commit()
    old = conn.execute(
        "SELECT count(*) AS n FROM chunked_files WHERE chunk_format <> %s", (CHUNK_FORMAT,)
    ).fetchone()["n"]
    assert old > 0
    again = index_run.run_index(conn, sample_copy, embed=False)
    assert again.rechunked_files == old and again.parsed == 0
    assert index_run.run_index(conn, sample_copy, embed=False).rechunked_files == 0


def test_a_result_list_shows_at_most_three_chunks_of_one_file_while_others_wait():
    scores = {f"big{i}": 10.0 - i for i in range(6)} | {"a0": 3.0, "b0": 2.0, "b1": 1.0}
    paths = {cid: "big.ts" if cid.startswith("big") else f"{cid[0]}.ts" for cid in scores}
    assert fusion.top_chunks(scores, paths, 5) == ["big0", "big1", "big2", "a0", "b0"]
    # the files keep their order; the held-back chunks fill the list once the others run out
    assert fusion.top_chunks(scores, paths, 8) == ["big0", "big1", "big2", "big3", "big4", "a0", "b0", "b1"]
    assert fusion.top_chunks(scores, paths, 20) == sorted(scores, key=lambda c: -scores[c])
    assert fusion.top_chunks({"x": 1.0, "y": 1.0}, {"x": "f", "y": "f"}, 1) == ["x"]


def test_search_lists_other_files_before_a_fourth_chunk_of_the_best_one(conn, tmp_path: Path):
    """A real index and search: one file matches in every chunk, two others once each."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "resize.ts").write_text("".join(
        f"/** Resize the uploaded image into thumbnail size {i}. */\n"
        f"export function resizeImage{i}(image: Buffer): Buffer {{\n  return image // thumbnail resize {i}\n}}\n\n"
        for i in range(6)))
    (src / "upload.ts").write_text("/** Store an uploaded image. */\nexport function storeUpload(image: Buffer) {}\n")
    (src / "crop.ts").write_text("/** Crop an image to a thumbnail. */\nexport function cropImage(image: Buffer) {}\n")
    index_run.run_index(conn, tmp_path, embed=False, repo="resize-app")
    hits = knowledge.search(conn, "resize image thumbnail", k=5, repo="resize-app", mode="keyword")
    paths = [h.path for h in hits]
    assert paths[0] == "src/resize.ts" and paths.count("src/resize.ts") == 3
    assert {"src/upload.ts", "src/crop.ts"} <= set(paths)
    # past the other files, the best file's other chunks fill the list
    assert [h.path for h in knowledge.search(conn, "resize image thumbnail", k=6, repo="resize-app",
                                             mode="keyword")].count("src/resize.ts") == 4


def test_a_generated_file_ranks_below_the_code_it_describes(conn, tmp_path: Path):
    """A real index and search: a generated type file names the binding as often as the code that
    uses it; the code comes first, and an index of a store made before the flag sets it."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "env.d.ts").write_text(
        "// Generated by Wrangler by running `wrangler types`\n"
        + "".join(f"interface Bucket{i} {{ /** the bucket binding for uploads {i} */ bucket{i}: R2Bucket }}\n"
                  for i in range(40)))
    (src / "uploads.ts").write_text(
        "/** Put an upload into the bucket binding. */\n"
        "export function putUpload(bucket: R2Bucket, body: Blob) {\n  return bucket.put('upload', body)\n}\n")
    index_run.run_index(conn, tmp_path, embed=False, repo="gen-app")
    flags = {r["path"]: r["generated"] for r in conn.execute("SELECT path, generated FROM files WHERE repo = 'gen-app'")}
    assert flags == {"src/env.d.ts": True, "src/uploads.ts": False}

    def order() -> list[str]:
        hits = knowledge.search(conn, "bucket binding for uploads", k=5, repo="gen-app", mode="keyword")
        return list(dict.fromkeys(h.path for h in hits))

    assert order() == ["src/uploads.ts", "src/env.d.ts"]
    # a store indexed before the flag existed: the unchanged file is flagged by the next index
    conn.execute("UPDATE files SET generated = false WHERE repo = 'gen-app'")
    assert order() == ["src/env.d.ts", "src/uploads.ts"]  # unflagged, the generated file's many matches win
    index_run.run_index(conn, tmp_path, embed=False, repo="gen-app")
    assert order() == ["src/uploads.ts", "src/env.d.ts"]
