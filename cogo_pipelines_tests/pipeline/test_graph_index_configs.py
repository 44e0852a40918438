"""A stored graph is reused only while the files module resolution reads are unchanged: a
package's own tsconfig, a workspace manifest, a Deno import map (real embedded PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

from cogo_pipelines.pipeline import graph_index
from cogo_pipelines.pipeline.policy import policy_for


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def _edges(conn, root: Path) -> set[tuple[str, str]]:
    graph_index.index_static_graph(conn, root, repo="shapes", entries=[], policy=policy_for(root, None))
    rows = conn.execute(
        "SELECT s.path AS src, d.path AS dst FROM code_relationships r JOIN ast_nodes s ON s.id = r.src_id"
        " JOIN ast_nodes d ON d.id = r.dst_id WHERE r.repo = 'shapes' AND r.kind = 'imports'").fetchall()
    return {(r["src"], r["dst"]) for r in rows}


def test_editing_a_package_tsconfig_or_manifest_rebuilds_the_graph(conn, tmp_path: Path):
    files = {
        "apps/web/tsconfig.json": '{"compilerOptions": {"paths": {"~/*": ["./src/*"]}}}',
        "apps/web/src/env.ts": "export const env = 1;\n",
        "apps/web/lib/env.ts": "export const env = 2;\n",
        "apps/web/src/main.ts": "import { env } from '~/env';\nimport { db } from '@acme/db';\n",
        "packages/db/package.json": json.dumps({"name": "@acme/db", "exports": "./src/index.ts"}),
        "packages/db/src/index.ts": "export const db = 1;\n",
        "packages/db/src/next.ts": "export const db = 2;\n",
    }
    _write(tmp_path, files)
    assert {("apps/web/src/main.ts", "apps/web/src/env.ts"),
            ("apps/web/src/main.ts", "packages/db/src/index.ts")} <= _edges(conn, tmp_path)

    (tmp_path / "apps/web/tsconfig.json").write_text('{"compilerOptions": {"paths": {"~/*": ["./lib/*"]}}}')
    (tmp_path / "packages/db/package.json").write_text(json.dumps({"name": "@acme/db", "exports": "./src/next.ts"}))
    edges = _edges(conn, tmp_path)
    assert {("apps/web/src/main.ts", "apps/web/lib/env.ts"), ("apps/web/src/main.ts", "packages/db/src/next.ts")} <= edges
    assert ("apps/web/src/main.ts", "apps/web/src/env.ts") not in edges


def test_editing_a_shared_base_config_rebuilds_the_graph(conn, tmp_path: Path):
    """An app's tsconfig extends a workspace config package (``@acme/tsconfig/base.json``, not
    named tsconfig*): an edit of that base is an edit of the app's resolution too."""
    files = {
        "package.json": json.dumps({"name": "monorepo", "private": True}),
        "pnpm-workspace.yaml": "packages:\n  - apps/*\n  - tooling/*\n",
        "tooling/typescript/package.json": json.dumps({"name": "@acme/tsconfig"}),
        "tooling/typescript/base.json": '{"compilerOptions": {"paths": {"~/*": ["${configDir}/src/*"]}}}',
        "apps/web/tsconfig.json": '{"extends": "@acme/tsconfig/base.json"}',
        "apps/web/src/env.ts": "export const env = 1;\n",
        "apps/web/lib/env.ts": "export const env = 2;\n",
        "apps/web/src/main.ts": "import { env } from '~/env';\n",
    }
    _write(tmp_path, files)
    assert ("apps/web/src/main.ts", "apps/web/src/env.ts") in _edges(conn, tmp_path)

    (tmp_path / "tooling/typescript/base.json").write_text('{"compilerOptions": {"paths": {"~/*": ["${configDir}/lib/*"]}}}')
    edges = _edges(conn, tmp_path)
    assert ("apps/web/src/main.ts", "apps/web/lib/env.ts") in edges
    assert ("apps/web/src/main.ts", "apps/web/src/env.ts") not in edges


def test_allow_js_in_a_package_base_config_takes_its_js_files(conn, tmp_path: Path):
    """Only packages/legacy allows JavaScript, through the base it extends: turning that on in
    the base (no source file changed) admits its ``.js`` files and their edges on the next run."""
    files = {
        "tsconfig.json": '{"files": []}',
        "configs/legacy.json": '{"compilerOptions": {"strict": true}}',
        "packages/legacy/tsconfig.json": '{"extends": "../../configs/legacy.json"}',
        "packages/legacy/index.js": "import { helper } from './helper.js';\nexport const old = helper;\n",
        "packages/legacy/helper.js": "export const helper = 1;\n",
        "packages/app/main.ts": "import { old } from '../legacy/index.js';\n",
    }
    _write(tmp_path, files)
    assert not any(src.endswith(".js") for src, _ in _edges(conn, tmp_path))  # the .js files are not read

    (tmp_path / "configs/legacy.json").write_text('{"compilerOptions": {"strict": true, "allowJs": true}}')
    assert {("packages/app/main.ts", "packages/legacy/index.js"),
            ("packages/legacy/index.js", "packages/legacy/helper.js")} <= _edges(conn, tmp_path)


def test_editing_a_svelte_config_alias_rebuilds_the_graph(conn, tmp_path: Path):
    """``svelte.config.js`` is not a source here (no allowJs), but its ``kit.alias`` steers resolution."""
    files = {
        "svelte.config.js": "export default { kit: { alias: { $ui: 'src/components' } } };\n",
        "src/components/Button.svelte": "<button>a</button>\n",
        "src/widgets/Button.svelte": "<button>b</button>\n",
        "src/routes/+page.svelte": "<script>\nimport Button from '$ui/Button.svelte';\n</script>\n",
    }
    _write(tmp_path, files)
    assert ("src/routes/+page.svelte", "src/components/Button.svelte") in _edges(conn, tmp_path)

    (tmp_path / "svelte.config.js").write_text("export default { kit: { alias: { $ui: 'src/widgets' } } };\n")
    edges = _edges(conn, tmp_path)
    assert ("src/routes/+page.svelte", "src/widgets/Button.svelte") in edges
    assert ("src/routes/+page.svelte", "src/components/Button.svelte") not in edges


def test_a_package_jsconfig_is_read_and_its_edit_rebuilds_the_graph(conn, tmp_path: Path):
    """A JavaScript app in a monorepo configures ``@/*`` in its ``jsconfig.json`` (no tsconfig
    anywhere): its ``.jsx`` files are sources, the alias resolves, and editing that jsconfig
    (no source changed) is an edit of the stored graph."""
    files = {
        "package.json": json.dumps({"name": "monorepo", "private": True, "workspaces": ["apps/*"]}),
        "apps/web/jsconfig.json": '{"compilerOptions": {"paths": {"@/*": ["./src/*"]}}}',
        "apps/web/src/env.js": "export const env = 1;\n",
        "apps/web/lib/env.js": "export const env = 2;\n",
        "apps/web/src/App.jsx": "import { env } from '@/env';\nexport default () => <p>{env}</p>;\n",
    }
    _write(tmp_path, files)
    assert _edges(conn, tmp_path) == {("apps/web/src/App.jsx", "apps/web/src/env.js")}

    (tmp_path / "apps/web/jsconfig.json").write_text('{"compilerOptions": {"paths": {"@/*": ["./lib/*"]}}}')
    assert _edges(conn, tmp_path) == {("apps/web/src/App.jsx", "apps/web/lib/env.js")}


def test_a_root_jsconfig_problem_is_reported_under_its_own_name(conn, tmp_path: Path):
    """The root config read was ``jsconfig.json``: its problem says so, on the run that builds
    the graph and on the one that reuses it."""
    _write(tmp_path, {
        "jsconfig.json": '{"compilerOptions": {"baseUrl": "src" "paths": {}}}',  # a missing comma
        "src/a.js": "import { b } from 'b';\nexport const a = b;\n",
        "src/b.js": "export const b = 1;\n",
    })
    policy = policy_for(tmp_path, None)
    for _ in range(2):
        result = graph_index.index_static_graph(conn, tmp_path, repo="shapes", entries=[], policy=policy)
        assert [name for name, _ in result.errors] == ["jsconfig.json"], result.errors
    assert result.skipped and result.edges >= 1  # baseUrl still read: 'b' is src/b.js
    assert _edges(conn, tmp_path) == {("src/a.js", "src/b.js")}
    from cogo_pipelines.indexing.policy import prepare

    note = prepare(tmp_path).messages[0]  # the note before a run
    assert note.startswith("jsconfig.json: ") and "not JSON/JSONC" in note and "tsconfig" not in note
