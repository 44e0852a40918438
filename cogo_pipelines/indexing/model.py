"""Plain data shared by the indexing stages.

The stages (sources -> typescript -> graph -> chunking -> embedding) are written by
different hands and cached by content hash, so what passes between them is plain,
picklable, JSON-able data rather than tree-sitter objects.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class SourceFile:
    """A file admitted by the include/exclude policy."""

    path: str  # relative to the repo root, POSIX
    language: str  # "typescript" | "tsx" | "markdown" | "sql" | "other"
    content_hash: str  # sha256 hex of the bytes
    size: int
    generated: bool = False  # its header says a tool wrote it (``indexing.generated``): search ranks it lower


@dataclass(slots=True)
class Symbol:
    """A declaration found in a TypeScript file."""

    kind: str  # function | class | method | interface | type | enum | const
    name: str
    qualified_name: str  # e.g. "JobQueue.claim"
    signature: str  # declaration text up to the body, whitespace-collapsed
    start_line: int  # 1-based, inclusive
    end_line: int
    start_byte: int
    end_byte: int
    exported: bool = False
    parent: str | None = None  # qualified name of the enclosing symbol


@dataclass(slots=True)
class ImportRecord:
    """One import-like statement: the raw specifier and what it binds."""

    specifier: str | None  # None for a non-literal dynamic import/require
    kind: str  # import | type | reexport | dynamic | require | reference | maybe
    line: int
    bindings: dict[str, str] = field(default_factory=dict)  # local name -> imported name ("*", "default")
    expression: str | None = None  # source text of a non-literal specifier


@dataclass(slots=True)
class CallSite:
    """A call inside a symbol body, resolved later against imports and local symbols."""

    caller: str  # qualified name of the enclosing symbol ("" at module level)
    callee: str  # callee text: "foo", "this.bar", "obj.baz", "ns.fn"
    line: int


@dataclass(slots=True)
class FileExtraction:
    """Everything the graph needs from one file; cached by content hash."""

    path: str
    symbols: list[Symbol] = field(default_factory=list)
    imports: list[ImportRecord] = field(default_factory=list)
    exports: dict[str, str] = field(default_factory=dict)  # exported name -> local name
    calls: list[CallSite] = field(default_factory=list)
    heritage: list[tuple[str, str, str]] = field(default_factory=list)  # (class, "extends"|"implements", name)
    references: list[tuple[str, str, int]] = field(default_factory=list)  # (symbol, type name, line)
    error: str | None = None
    # JSX elements naming a component: (symbol, tag name, line), linked as ``renders``
    renders: list[tuple[str, str, int]] = field(default_factory=list)
    # declared types of this file's functions, for receivers typed by another file's signatures:
    # "f()" -> return type, "f(0)(1)" -> second parameter of the function-typed first parameter,
    # "C.x" -> field x of class C, "c" -> an exported const (type names, generics dropped, or a
    # type reference of ``ts_types``)
    types: dict[str, str] = field(default_factory=dict)
    # tags of a Vue template that the script binds nowhere: (PascalCase name, line), linked as
    # ``renders`` when a ``GlobalComponents`` declaration (unplugin's components.d.ts) names them
    globals: list[tuple[str, int]] = field(default_factory=list)
    # the later bodies of a symbol declared twice with other members between (a static and an
    # instance method of one name): (start byte, end byte, qualified name); its calls are its own
    apart: list[tuple[int, int, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
