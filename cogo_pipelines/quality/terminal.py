"""Text a build printed, made plain before it is shown anywhere else.

Test runners and compilers colour their output (``tsc --pretty``, vitest) and may print any
escape: an OSC title or hyperlink, a bell. In a gate_fix, an alert or a dashboard those are
noise at best (an excerpt cut mid-sequence read ``93m49[0m…``) and a spoofed link at worst.
"""

from __future__ import annotations

import re

# OSC (titles, hyperlinks) to its BEL or ST, CSI (colours, cursor moves), other two-byte escapes,
# and the control characters but tab and newline
_TERMINAL = re.compile(r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b\[[0-?]*[ -/]*[@-~]|\x1b.?|[\x00-\x08\x0b-\x1f\x7f]")


def strip_terminal(text: str) -> str:
    """``text`` without terminal escape sequences and control characters (tabs and newlines kept)."""
    return _TERMINAL.sub("", text) if text else text
