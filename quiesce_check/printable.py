"""Text from a model or the command line made safe to show: control characters escaped.

A foundation module below every stage: it imports nothing of the project. Gives `printable`,
which every renderer (diagnostics, the terminal report, command-line messages, JUnit XML)
applies to what it shows: an escape sequence in a comment, a string, a file name or a `use`
path cannot clear the screen, move the cursor or print a fake verdict, and XML stays well
formed. Each such character is shown as Python writes it in a string (`\\x1b`, `\\u202e`).
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL; the bidirectional overrides and isolates, which reorder what follows
# them on screen ("Trojan source"); the line and paragraph separators, which some terminals
# treat as line breaks
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029"
_CONTROL = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}\ud800-\udfff]")
_CONTROL_KEEP_LINES = re.compile(f"[\x00-\x09\x0b-\x1f\x7f-\x9f{_BIDI}\ud800-\udfff]")


def _escape(m: re.Match[str]) -> str:
    c = m.group()
    n = ord(c)
    named = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}.get(c)
    if named is not None:
        return named
    return f"\\x{n:02x}" if n <= 0xFF else f"\\u{n:04x}"


def printable(text: str, lines: bool = False) -> str:
    """`text` with every control character escaped; with `lines`, line breaks are kept."""
    return (_CONTROL_KEEP_LINES if lines else _CONTROL).sub(_escape, text)
