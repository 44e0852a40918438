"""What reading a build log yields: failures with their messages, frames and code lines.

The model every build-log parser fills in and every consumer reads (``gate_fix`` reports it,
``locate`` ranks code locations from its frames), with the caps that keep a hostile log's
result small: at most ``MAX_FAILURES`` failures, ``MAX_FRAMES`` frames each, messages and names
cut to ``MESSAGE_CHARS`` and ``NAME_CHARS``. ``Collector`` is where parsers put what they find:
it drops repeats (summaries list a failure again) and enforces the failure cap.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field

MAX_FAILURES = 40
MAX_FRAMES = 12
MESSAGE_CHARS = 600
NAME_CHARS = 300


@dataclass
class Frame:
    path: str
    line: int
    column: int | None = None
    function: str | None = None

    @property
    def internal(self) -> bool:
        """Runtime or dependency frames: never the code under test."""
        return (self.path.startswith(("node:", "internal/")) or "/node_modules/" in f"/{self.path}"
                or "<anonymous>" in self.path)


@dataclass
class Failure:
    kind: str  # test | compile | lint | error
    name: str
    message: str = ""
    file: str | None = None
    frames: list[Frame] = field(default_factory=list)
    code_lines: list[str] = field(default_factory=list)  # the failing source line first, then context
    parser: str = "generic"

    def add_frame(self, frame: Frame | None) -> None:
        if frame and len(self.frames) < MAX_FRAMES and frame not in self.frames:
            self.frames.append(frame)

    def add_message(self, text: str) -> None:
        text = text.strip()
        if text and len(self.message) < MESSAGE_CHARS:
            self.message = (f"{self.message}\n{text}" if self.message else text)[:MESSAGE_CHARS]


@dataclass
class BuildLog:
    failures: list[Failure]
    parsers: list[str]
    truncated: bool = False

    @property
    def failing_names(self) -> list[str]:
        return [f.name for f in self.failures]

    def signature(self, target: str | None = None) -> str:
        """Stable across reruns of the same breakage: what failed, not when or with which numbers."""
        keys = sorted({f"{f.kind}:{f.file or ''}:{f.name}" for f in self.failures})
        digest = hashlib.sha256("\n".join([target or "", *keys]).encode("utf-8")).hexdigest()
        return digest[:16]

    def as_dict(self) -> dict:
        return {"parsers": self.parsers, "truncated": self.truncated,
                "failures": [asdict(f) for f in self.failures]}


class Collector:
    """The failures found so far, across parsers: deduplicated and capped."""

    def __init__(self) -> None:
        self.failures: list[Failure] = []
        self._seen: dict[tuple[str, str], Failure] = {}

    def add(self, failure: Failure) -> Failure:
        """Deduplicated by (kind, name): summaries repeat failures (vitest's × list, spec's recap)."""
        failure.name = failure.name.strip()[:NAME_CHARS]
        key = (failure.kind, failure.name)
        if key in self._seen:
            return self._seen[key]
        if len(self.failures) < MAX_FAILURES:
            self.failures.append(failure)
        self._seen[key] = failure
        return failure
