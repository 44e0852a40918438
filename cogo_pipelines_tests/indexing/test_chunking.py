"""Chunking rules (pure: no database, no model)."""

from __future__ import annotations

from cogo_pipelines.indexing import chunking, typescript
from cogo_pipelines.indexing.chunk import MAX_CHUNK_CHARS
from cogo_pipelines.indexing.markdown_chunks import chunk_markdown
from cogo_pipelines.indexing.model import SourceFile
from cogo_pipelines.indexing.sources import content_hash, language_of
from cogo_pipelines.indexing.sql_chunks import chunk_sql


def chunks_of(path: str, data: bytes) -> chunking.FileChunks:
    f = SourceFile(path, language_of(path), content_hash(data), len(data))
    extraction = tree = None
    if f.language in ("typescript", "tsx") and len(data) <= chunking.MAX_FILE_BYTES:
        extraction = typescript.extract_file(path, data)
        tree = typescript.parse(data, typescript.is_tsx(path))
    return chunking.chunk_file(f, data, extraction, tree)


def test_code_chunk_per_symbol_with_header_and_doc_comment(sample_repo_path):
    data = (sample_repo_path / "src/core/router.ts").read_bytes()
    result = chunks_of("src/core/router.ts", data)
    by_symbol = {c.symbol: c for c in result.chunks}
    assert {"RouteRule", "DEFAULT_ROUTES", "globToRegExp", "selectExecutor", "routeTask"} <= set(by_symbol)
    select = by_symbol["selectExecutor"]
    assert select.chunk_type == "code" and select.kind == "function"
    assert select.content.startswith("/** Select the executor")  # leading doc comment belongs to the symbol
    assert "export function selectExecutor" in select.content
    assert select.header.startswith("src/core/router.ts | function selectExecutor: ")
    lines = data.decode().splitlines()
    assert lines[select.end_line - 1].strip() == "}"
    module = [c for c in result.chunks if c.chunk_type == "module"]
    assert module and "Executor router" in module[0].content  # file comment outside symbols is searchable
    assert result.error is None


def test_large_class_split_per_method_and_huge_function_on_ast_boundaries():
    methods = "\n".join(
        f"  method{i}(x: number): number {{\n    return x + {i} * {i};\n  }}\n" + "  // pad\n" * 60
        for i in range(12)
    )
    body = "\n".join(f'  const value{i} = compute("item-{i}", {i});' for i in range(400))
    source = (
        f"export class Big {{\n  field = 1;\n{methods}}}\n\nexport function huge() {{\n{body}\n}}\n".encode()
    )
    result = chunks_of("src/big.ts", source)
    big = [c for c in result.chunks if c.symbol == "Big"]
    outline = "".join(c.content for c in big)  # the class as an outline: members elided
    assert "method3(x: number): number { … }" in outline and "return x + 3" not in outline
    assert {f"Big.method{i}" for i in range(12)} <= {c.symbol for c in result.chunks}
    pieces = [c for c in result.chunks if c.symbol == "huge"]
    assert len(pieces) > 2 and all(len(p.content) <= MAX_CHUNK_CHARS for p in pieces)
    for p in pieces:  # cut between statements, never inside one
        assert all(line.strip().endswith((";", "{", "}")) for line in p.content.splitlines() if line.strip())
    joined = "".join(p.content for p in pieces)
    assert all(f"value{i} =" in joined for i in range(400))


def test_markdown_sections_with_header_chain():
    text = "# Title\n\nintro\n\n## Claims\n\nclaim text\n\n### Ordering\n\nordered\n\n## Leases\n\nlease text\n\n```\n## not a header\n```\n"
    chunks = chunk_markdown("docs/specs/q.md", text)
    chains = [c.header_chain for c in chunks]
    assert chains == ["# Title", "# Title > ## Claims", "# Title > ## Leases"]
    assert "### Ordering" in chunks[1].content  # a small ## keeps its ### inside
    assert "## not a header" in chunks[2].content
    assert chunks[1].start_line == 5


def test_large_markdown_section_is_cut_at_subheaders():
    para = "word " * 600
    text = f"# T\n\n## Big\n\n### One\n\n{para}\n\n### Two\n\n{para}\n"
    chains = [c.header_chain for c in chunk_markdown("docs/specs/big.md", text)]
    assert "# T > ## Big > ### One" in chains and "# T > ## Big > ### Two" in chains


def test_markdown_without_headers_is_one_chunk():
    result = chunks_of("docs/specs/plain.md", b"just some notes\n\nand more notes\n")
    assert len(result.chunks) == 1 and result.chunks[0].header_chain is None and result.error is None


def test_mdx_docs_are_markdown_sections():
    # a docs site page: front matter, an import and a JSX component around ordinary sections
    data = (
        b"---\ntitle: Self-hosting\n---\n\nimport { Callout } from '@/components/callout';\n\n# Self-hosting\n\n"
        b"<Callout>Needs Postgres.</Callout>\n\n## Environment\n\nSet DATABASE_URL.\n\n## Upgrades\n\nRun migrations.\n"
    )
    result = chunks_of("apps/docs/self-hosting.mdx", data)
    assert language_of("apps/docs/self-hosting.mdx") == "markdown" and result.error is None
    chains = [c.header_chain for c in result.chunks]
    assert "# Self-hosting > ## Environment" in chains and "# Self-hosting > ## Upgrades" in chains
    assert language_of("docs/guide.markdown") == "markdown"


def test_sql_statements_respect_dollar_quoting_and_name_objects(sample_repo_path):
    text = (sample_repo_path / "supabase/sql/001_jobs.sql").read_text()
    chunks, error = chunk_sql("supabase/sql/001_jobs.sql", text)
    assert error is None
    names = [(c.kind, c.object_name) for c in chunks]
    assert ("create table", "jobs") in names and ("create function", "claim_job") in names
    claim = next(c for c in chunks if c.object_name == "claim_job")
    assert claim.content.count(";") > 3 and claim.content.rstrip().endswith("$$;")  # body kept whole
    assert claim.content.startswith("-- Claim the next queued job")


def test_sql_that_does_not_parse_is_kept_whole_with_an_error():
    result = chunks_of("supabase/sql/bad.sql", b"create function f() returns int as $$ begin; select 1;\n")
    assert len(result.chunks) == 1 and "did not parse" in result.error


def test_bad_input_files_give_a_chunk_or_an_error():
    empty = chunks_of("src/empty.ts", b"")
    assert len(empty.chunks) == 1 and empty.chunks[0].content == ""
    comments = chunks_of("src/comments.ts", b"// only a comment\n/* and a block */\n")
    assert comments.chunks[0].chunk_type == "module" and "only a comment" in comments.chunks[0].content
    latin1 = chunks_of("src/latin1.ts", "export const café = 'naïve';\n".encode("latin-1"))
    assert latin1.chunks and "UTF-8" in latin1.error
    generated = (
        b"export const DATA = [\n"
        + b"  'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',\n" * 110_000
        + b"];\n"
    )
    assert len(generated) > 5_000_000
    big = chunks_of("src/generated.ts", generated)
    assert len(big.chunks) == 1 and "too large" in big.error
    binary = chunks_of("supabase/functions/blob.bin", b"\x00\x01\x02abc")
    assert "NUL" in binary.error and "\x00" not in binary.chunks[0].content


def test_a_nul_inside_a_string_of_a_source_is_kept_without_a_problem():
    """pnpm writes a NUL into a template literal: the file is source (the graph reads it), so
    indexing it reports nothing; Postgres text cannot hold the NUL, which becomes U+FFFD."""
    source = chunks_of("src/cache.ts", b"const key = `${a}\x00${b}`;\nexport function after(): number { return 1; }\n")
    assert source.error is None
    assert "`${a}\ufffd${b}`" in "".join(c.content for c in source.chunks)
    assert "\x00" not in "".join(c.content for c in source.chunks)
    blob = chunks_of("src/blob.ts", b"\x00\x01\x02\x03" * 64)
    assert "binary" in blob.error and "\x00" not in blob.chunks[0].content


def test_identifier_splitting():
    from cogo_pipelines.store.knowledge import split_identifiers

    assert split_identifiers("JobQueue.reapExpired") == "jobqueue job queue reapexpired reap expired"
    assert "claim job" in split_identifiers("claim_job") and "http response" in split_identifiers(
        "parseHTTPResponse"
    )
    assert split_identifiers("src/core/router.ts") == "src core router ts"


def test_a_changelog_of_thousands_of_sections_is_chunked_in_linear_time():
    """Each ``#``/``##`` section's headings were found by scanning every heading of the file
    (a 10,000-heading changelog: quadratic); they are a slice of the headings in order."""
    import time

    text = "".join(f"## 1.{i}.0\n\n```\nfixed {i}\n```\n\nSetext {i}\n-----\n" for i in range(20_000))
    started = time.perf_counter()
    chunks = chunk_markdown("CHANGELOG.md", text)
    assert time.perf_counter() - started < 15.0
    assert len(chunks) == 40_000
    last = chunks[-1]
    assert last.symbol == "Setext 19999" and last.start_line == 20_000 * 8 - 1


def test_an_expression_nested_thousands_deep_is_cut_into_code_chunks():
    """Generated code nests an expression thousands deep (``a0 + a1 + …``): cutting a large
    symbol at AST boundaries recursed once a level and hit Python's recursion limit, and the
    whole file fell back to plain text; below ``SPLIT_DEPTH`` levels it is cut at lines."""
    terms = "\n  + ".join(f"'segment number {i}'" for i in range(5_000))
    result = chunks_of("src/generated.ts", f"export function big(): string {{\n  return {terms};\n}}\n".encode())
    assert result.error is None
    assert len(result.chunks) > 10 and {c.chunk_type for c in result.chunks} == {"code"}
    assert all(len(c.content) <= MAX_CHUNK_CHARS for c in result.chunks)
    assert "segment number 4999" in result.chunks[-1].content


def test_sql_seed_files_are_split_without_grouping():
    """A seed file's one INSERT of thousands of rows passed sqlparse's grouping limit and the
    file fell back to plain text; statements are split unGrouped now (3x faster), their lines
    counted on from the one before, and a CTE's statement still says what it does."""
    rows = ",\n".join(f"  ({i}, 'name {i}')" for i in range(20_000))
    text = f"CREATE TABLE t (id int, name text);\nINSERT INTO t (id, name) VALUES\n{rows};\n" \
           "WITH stale AS (SELECT id FROM t WHERE id < 10)\nDELETE FROM t WHERE id IN (SELECT id FROM stale);\n" \
           + "".join(f"CREATE INDEX i{i} ON t (id);\n" for i in range(3_000))
    chunks, error = chunk_sql("seed.sql", text)
    assert error is None
    assert chunks[0].object_name == "t" and chunks[0].kind == "create table"
    inserts = [c for c in chunks if c.kind == "insert"]
    assert inserts and inserts[0].start_line == 2 and inserts[-1].end_line == 20_002
    delete = next(c for c in chunks if c.kind == "delete")
    assert delete.start_line == 20_003 and delete.content.startswith("WITH stale AS")
    last = chunks[-1]
    assert last.object_name == "i2999" and last.start_line == last.end_line == 20_004 + 3_000


def test_a_headingless_document_is_cut_into_bounded_chunks_in_linear_time():
    """A markdown file without a heading was one chunk however large (900 kB stored, returned by
    search, sent to the model), and cutting large text summed every piece so far for each new
    one (~1,000 additions per short paragraph). Both are bounded now, and a file that cannot
    hold a heading is not parsed for one."""
    import time

    text = "a short paragraph\n\n" * 50_000
    started = time.perf_counter()
    chunks = chunk_markdown("NOTES.md", text)
    assert time.perf_counter() - started < 5.0
    assert len(chunks) > 200 and all(len(c.content) <= MAX_CHUNK_CHARS for c in chunks)
    assert chunks[0].start_line == 1 and chunks[-1].end_line == 100_000
    quoted = chunk_markdown("QUOTE.md", "> # Quoted\n> text\n\n- item\n\n  Setext\n  ---\n")
    assert [c.header_chain for c in quoted] == ["# Quoted", "# Quoted > ## Setext"]
