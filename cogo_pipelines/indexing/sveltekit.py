"""SvelteKit's import aliases, read from ``svelte.config.{js,mjs,ts}`` without running it.

An app declares ``kit: { alias: { $components: 'src/components', '@/*': 'src/*' } }``;
``svelte-kit sync`` turns them (and ``$lib``, which is ``kit.files.lib``, ``src/lib`` by
default) into ``paths`` of a generated ``.svelte-kit/tsconfig.json`` that the app's tsconfig
extends, but a fresh clone has no ``.svelte-kit/``. So the config is parsed (tree-sitter, the
TypeScript grammar, which reads JavaScript too) and only the object literal is read: string
keys with string values. Anything computed (``path.resolve('src/x')``, a spread, a variable)
is left out and named once as a problem of that config.

The ``paths`` are made as SvelteKit's ``get_tsconfig_paths`` makes them: ``name`` → folder gives
``name`` and ``name/*``; ``name`` → a file (it has an extension) gives ``name`` only;
``name/*`` → ``folder/*`` gives ``name/*`` only. Targets are relative to the app's folder.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

from cogo_pipelines.indexing.reading import read_regular

CONFIG_NAMES = ("svelte.config.js", "svelte.config.mjs", "svelte.config.ts", "svelte.config.cjs", "svelte.config.mts")
MAX_CONFIG_BYTES = 1 << 20  # a config is a few hundred bytes; a bigger one is not read
_FILE_ENDING = re.compile(r"\.\w+$")
_WRAPPERS = ("parenthesized_expression", "satisfies_expression", "as_expression", "non_null_expression")


@dataclass
class KitConfig:
    """What an app's svelte.config says about module names."""

    paths: dict[str, list[str]] = field(default_factory=dict)  # tsconfig-style, relative to the app
    problems: list[str] = field(default_factory=list)


def _unwrap(node):
    while node is not None and node.type in _WRAPPERS:
        node = node.named_children[0] if node.named_children else None
    return node


def _string(node, source: bytes) -> str | None:
    """The value of a string literal (or a template without ``${}``), else None."""
    node = _unwrap(node)
    if node is None or node.type not in ("string", "template_string"):
        return None
    if any(child.type == "template_substitution" for child in node.named_children):
        return None
    raw = source[node.start_byte: node.end_byte].decode("utf-8", "replace")
    if "\\" not in raw:
        return raw[1:-1]
    if raw[0] == "`":
        return None
    try:  # escapes (\n, \u00e9, \'): a JS string literal reads as a Python one
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, str) else None


def _key(pair, source: bytes) -> str | None:
    key = pair.child_by_field_name("key")
    if key is None:
        return None
    if key.type in ("property_identifier", "number"):
        return source[key.start_byte: key.end_byte].decode("utf-8", "replace")
    return _string(key, source)  # a computed key ([name]) is None


def _pairs(obj, source: bytes) -> tuple[dict[str, object], list[str]]:
    """``key -> value node`` of an object literal, and what in it is not ``'key': value``."""
    out: dict[str, object] = {}
    dynamic: list[str] = []
    for child in obj.named_children:
        if child.type == "comment":
            continue
        name = _key(child, source) if child.type == "pair" else None
        if name is None:
            text = " ".join(source[child.start_byte: child.end_byte].decode("utf-8", "replace").split())
            dynamic.append(text if len(text) <= 40 else text[:37] + "...")
        else:
            out[name] = child.child_by_field_name("value")
    return out, dynamic


def _kit_object(root, source: bytes):
    """The first ``kit: { ... }`` property anywhere in the file (``export default {...}``,
    ``const config = {...}``, ``defineConfig({...})``): ``(object node or None, problem)``."""
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "pair" and _key(node, source) == "kit":
            value = _unwrap(node.child_by_field_name("value"))
            if value is not None and value.type == "object":
                return value, None
            return None, "kit is not an object literal, its alias is not read"
        stack.extend(reversed(node.named_children))
    return None, None


def parse(source: bytes) -> tuple[dict[str, str], str | None, list[str]]:
    """``(alias, files.lib, problems)`` of a svelte.config's text: the literal entries only."""
    import tree_sitter
    import tree_sitter_typescript

    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_typescript.language_typescript()))
    tree = parser.parse(source)
    kit, problem = _kit_object(tree.root_node, source)
    problems = [problem] if problem else []
    if kit is None:
        return {}, None, problems
    fields, _ = _pairs(kit, source)
    lib = None
    files = _unwrap(fields.get("files"))
    if files is not None and files.type == "object":
        lib = _string(_pairs(files, source)[0].get("lib"), source)
    alias_node = _unwrap(fields.get("alias"))
    if alias_node is None:
        return {}, lib, problems
    if alias_node.type != "object":
        return {}, lib, [*problems, "kit.alias is not an object literal, not read"]
    entries, dynamic = _pairs(alias_node, source)
    alias: dict[str, str] = {}
    for name, value in entries.items():
        text = _string(value, source)
        if text is None:
            dynamic.append(name)
        else:
            alias[name] = text
    if dynamic:
        problems.append(f"kit.alias: {', '.join(map(repr, dynamic[:5]))}{', …' if len(dynamic) > 5 else ''} "
                        "not a string literal, not read (`svelte-kit sync` writes every alias to .svelte-kit/tsconfig.json)")
    return alias, lib, problems


def tsconfig_paths(alias: dict[str, str], lib: str, lib_exists: bool) -> dict[str, list[str]]:
    """SvelteKit's ``get_tsconfig_paths``: ``$lib`` is ``files.lib`` when that folder exists
    (over an alias of that name), and each alias a ``paths`` entry (``name/*`` too for a folder)."""
    alias = dict(alias)
    if lib_exists or "$lib" not in alias:
        alias["$lib"] = lib
    paths: dict[str, list[str]] = {}
    for key, value in alias.items():
        target = value.strip().removesuffix("/*") or "."
        if key.endswith("/*"):
            paths[key] = [target + "/*"]
        else:
            paths[key] = [target]
            if not _FILE_ENDING.search(value) and key + "/*" not in alias:
                paths[key + "/*"] = [target + "/*"]
    return paths


def read_config(folder: Path, names: frozenset[str] | set[str]) -> tuple[str, KitConfig]:
    """``(config file name, its KitConfig)`` for the app in ``folder`` (``names``: its files)."""
    name = ([n for n in CONFIG_NAMES if n in names] or sorted(n for n in names if n.startswith("svelte.config.")))[0]
    alias: dict[str, str] = {}
    lib = None
    problems: list[str] = []
    try:
        path = folder / name
        alias, lib, problems = parse(read_regular(path, MAX_CONFIG_BYTES))
    except OSError as exc:
        problems.append(f"cannot read: {exc.strerror or exc}")
    lib = (lib or "src/lib").strip()
    return name, KitConfig(tsconfig_paths(alias, lib, (folder / lib.removesuffix("/*")).is_dir()), problems)
