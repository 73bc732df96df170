"""Diagnostics shared by every stage: source spans, the error catalogue, rendering.

Takes source positions and messages; gives `Span`, `Diagnostic`, the exception
that carries diagnostics out of a stage (`ModelError`), and the one renderer
(`path:line:col: error[CODE]: message`, the source line, `^~~~` under the span,
and a hint, control characters escaped). Imports `printable` only.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from quiesce_check.printable import printable


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open region of a source file; lines and columns count from 1."""

    path: str
    line: int
    col: int
    end_line: int
    end_col: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


# The catalogue: every code a user can see, with its one-line meaning. Tests
# assert codes and spans, never message prose.
CODES: dict[str, str] = {
    "E001": "the file is not valid QDL syntax",
    "E002": "the file ends in the middle of a declaration or statement",
    "E003": "a character that QDL does not use",
    "E004": "the model file cannot be read or decoded",
    "E010": "a name is declared twice",
    "E011": "a name is used but never declared",
    "E012": "a name is used as something it is not (a type as a value, a variable as a type, ...)",
    "E013": "a reserved word used as a name",
    "E014": "a `use` names a vocabulary or file that cannot be found or read, or uses itself",
    "E015": "an `override` with no `default` to replace, or a `use` argument the used file does not declare",
    "E020": "an expression has the wrong type for where it stands",
    "E021": "an assignment's value does not fit the target's type",
    "E022": "the target of an assignment is not a variable",
    "E023": "a constant expression cannot be evaluated (not constant, division by zero, ...)",
    "E024": "an empty or inverted range, a type too large to enumerate, or a model too large to check "
            "(too wide a state, too many steps or successors, numbers too long)",
    "E025": "an array literal has the wrong number of elements",
    "E026": "a record literal has missing or unknown fields",
    "E027": "a symmetric type misused: declared on something other than a range, or its values used in "
            "arithmetic, ordering or beside other values (which would single one value out)",
    "E028": "a model that does not respect its `symmetric` declaration (found by sampling states and "
            "permutations before the search)",
    "E030": "a statement that may not stand here (a loop inside `atomic`, `await` in an action, ...)",
    "E031": "a value chosen by `with` used after the step that chose it",
    "E032": "a label is unknown or declared twice in a process",
    "E033": "an assignment to a bound name or a constant",
    "E034": "an assignment to a `protected` variable outside the vocabulary that declares it",
    "E035": "a def or proc called with the wrong number of arguments, or calling itself",
    "E036": "a `check` that names no property",
    "E040": "a `--param` that the model does not declare, or a value of the wrong type",
    "E041": "a model with nothing to run (no process and no action)",
    "E042": "`x'` or `by P` outside an `always step` property, or `x'` primed twice",
    "E043": "a fairness declaration that names no process, instance, label or action",
}


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    message: str
    span: Span | None
    hint: str | None = None
    related: tuple[tuple[str, Span], ...] = ()


class ModelError(Exception):
    """One or more diagnostics that stop the pipeline before any state is explored."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        super().__init__("; ".join(d.message for d in diagnostics))
        self.diagnostics = tuple(diagnostics)


def nearest(name: str, candidates: Iterable[str]) -> str | None:
    """A hint naming the declared names closest to a misspelt one."""
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=3, cutoff=0.6)
    if not close:
        return None
    return "did you mean " + " or ".join(f"`{c}`" for c in close) + "?"


# The most characters of a source line an excerpt shows.
_EXCERPT = 200


def _source_line(sources: dict[str, str], span: Span) -> str | None:
    text = sources.get(span.path)
    if text is None:
        return None
    # lines as the parser counts them: at "\n" only (splitlines also breaks at \r, \f, \x1c, \x85, ...)
    lines = text.split("\n")
    if 1 <= span.line <= len(lines):
        return lines[span.line - 1].removesuffix("\r")
    return None


def _excerpt(sources: dict[str, str], span: Span) -> list[str]:
    line = _source_line(sources, span)
    if line is None:
        return []
    line = line.expandtabs(1)
    col = span.col
    width = span.end_col - span.col if span.end_line == span.line else len(line) - span.col + 1
    # control characters escaped (a comment must not drive the terminal), the caret moved with them
    head, marked = printable(line[:col - 1]), printable(line[col - 1:col - 1 + max(0, width)])
    line, col, width = printable(line), len(head) + 1, len(marked)
    if len(line) > _EXCERPT:
        # a window of the line around the spot, so that line and caret stay on one screen
        start = max(0, min(col - 1 - _EXCERPT // 2, len(line) - _EXCERPT))
        shown = line[start:start + _EXCERPT]
        line = ("... " if start else "") + shown + (" ..." if start + _EXCERPT < len(line) else "")
        col = col - start + (4 if start else 0)
        width = min(width, len(shown) - (col - (4 if start else 0)) + 1)
    width = max(1, min(width, max(1, len(line) - col + 1)))
    gutter = f"{span.line:>5} | "
    return [gutter + line, " " * (len(gutter) - 2) + "| " + " " * (col - 1) + "^" + "~" * (width - 1)]


def render(diag: Diagnostic, sources: dict[str, str]) -> str:
    """One diagnostic as plain text, as every front end prints it; whatever came from the model
    or the command line (paths, names, quoted text, source lines) with control characters escaped."""
    where = f"{diag.span}: " if diag.span else ""
    out = [printable(f"{where}error[{diag.code}]: {diag.message}")]
    if diag.span:
        out.extend(_excerpt(sources, diag.span))
    for what, span in diag.related:
        out.append(printable(f"  note: {what} at {span}"))
        out.extend("  " + x for x in _excerpt(sources, span))
    if diag.hint:
        out.append(printable(f"  hint: {diag.hint}"))
    return "\n".join(out)
