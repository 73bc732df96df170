"""Hostile input for the command line: mutated real models, random text and bytes, and the
one harness every fuzz test runs them through.

`mutated_model()` is a hypothesis strategy that takes a model of the repository (or a seed of
tests/cli/seeds, written to hold every construct of a part of the language) and breaks it the
ways real files break: tokens and lines deleted, duplicated, swapped or replaced, a declaration
spliced in from another model, numbers replaced by huge ones, brackets nested deeply, the text
truncated. `run_cli` runs `quiesce_check.cli.main` in this process with its
output captured and a hard time bound, and `assert_polite` holds a run to the README's
contract: an exit code from its table, never an internal error, never a traceback, a message
that fits on one screen, and a location where there is one.
"""

from __future__ import annotations

import io
import re
import signal
import time
from collections.abc import Sequence
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

from hypothesis import strategies as st

from tests.conftest import ROOT, model_files

# The exit codes of the README's table: the contract every run is held to.
README_CODES = frozenset(int(m) for m in re.findall(r"^\| *(\d+) *\|", (ROOT / "README.md").read_text(), re.M))
EXIT_INTERNAL = 153

# A message must fit on one screen.
SCREEN_LINES = 60

_TOKEN = re.compile(r'//[^\n]*|/\*.*?\*/|"[^"\n]*"|[A-Za-z_][A-Za-z_0-9]*|[0-9]+|:=|\.\.|==|!=|<=|>=|=>|<<|>>|->|\S',
                    re.S)

# Seeds written for the fuzz tests: models that hold, each in one file, every construct of a part
# of the language (sets, sequences, choose, send/receive, qualified enum members, finished), so
# that mutations reach their parser and checker paths. A mutation starts from one about one time
# in four.
SEEDS = sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("tests/cli/seeds/*.qdl"))
_SEED_WEIGHT = 20

# Every QDL file of the repository: the models, the files they use, the hook specs, the examples,
# the seeds.
_FILES = sorted({*model_files(), *ROOT.glob("models/**/*.qdl"), *ROOT.glob("specs/**/*.qdl"),
                 *(ROOT / s for s in SEEDS)})
SOURCES: dict[str, str] = {p.relative_to(ROOT).as_posix(): p.read_text() for p in _FILES}

_KEYWORDS = ("var", "param", "const", "type", "process", "action", "invariant", "reachable", "terminal",
             "final", "when", "if", "else", "while", "for", "with", "where", "either", "or", "atomic",
             "await", "assert", "skip", "let", "use", "def", "proc", "forall", "exists", "count", "array",
             "of", "record", "enum", "bool", "true", "false", "any", "in", "not", "and", "override",
             "default", "protected", "optional", "check", "then", "set", "seq", "union", "minus", "intersect",
             "subset", "choose", "send", "receive", "card", "len", "head", "tail", "append", "remove", "finished")
_PUNCT = (";", ":", ",", "{", "}", "[", "]", "(", ")", ":=", "..", "==", "=", "+", "-", "*", "/", "%",
          "<", ">", "=>", ".", "@", '"', "$", "#", "\\", "\u00e9", "\u2192", "<<", ">>", "->", "<<>>", "{}")
_HUGE = ("0", "-1", "65536", "4294967296", "9223372036854775807", "9223372036854775808",
         "18446744073709551616", "1" + "0" * 30, "9" * 400, "1" * 5000)


class Hang(BaseException):
    """A run took longer than its bound; not an `Exception`, so no handler in the CLI catches it."""


@dataclass
class Run:
    argv: list[str]
    code: int
    out: str
    err: str
    seconds: float


def run_cli(argv: Sequence[object], bound: float = 60.0) -> Run:
    """`quiesce-check ARGV` in this process, output captured, ended with `Hang` after `bound` seconds."""
    from quiesce_check.cli import main

    args = [str(a) for a in argv]
    out, err = io.StringIO(), io.StringIO()

    def expire(signum: int, frame: object) -> None:
        raise Hang(f"quiesce-check {' '.join(args)[:300]} ran longer than {bound} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, bound)
    start = time.perf_counter()
    try:
        with redirect_stdout(out), redirect_stderr(err):
            code = main(args)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return Run(args, code, out.getvalue(), err.getvalue(), time.perf_counter() - start)


_LOCATED = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): error\[E\d{3}\]: ", re.M)


def assert_polite(r: Run, model_path: str | None = None, source: str | None = None) -> None:
    """The contract of every run, whatever the input."""
    shown = f"argv {r.argv[:8]}\nexit {r.code}\n--- stdout\n{r.out[-3000:]}\n--- stderr\n{r.err[-3000:]}"
    assert "Traceback" not in r.out + r.err, shown
    assert r.code != EXIT_INTERNAL, shown
    assert r.code in README_CODES, shown
    assert len(r.err.splitlines()) <= SCREEN_LINES, shown
    if r.code == 150:
        # a model that does not parse or check: every message says where, and the place exists
        heads = [line for line in r.err.splitlines() if "error[" in line and not line.startswith(" ")]
        assert heads, shown
        for m in _LOCATED.finditer(r.err):
            line, col = int(m["line"]), int(m["col"])
            assert line >= 1 and col >= 1, shown
            if source is not None and m["path"] == model_path:
                assert line <= max(1, source.count("\n") + 1), shown
    if r.code in (150, 151):
        assert r.err.strip(), shown


def tokens(text: str) -> list[tuple[int, int]]:
    """Start and end of each token of `text` (comments and strings are one token each)."""
    return [(m.start(), m.end()) for m in _TOKEN.finditer(text)]


def declarations(text: str) -> list[str]:
    """The top-level declarations of a model, each as text (split at `;` or `}` at depth 0)."""
    out, depth, start = [], 0, 0
    for m in _TOKEN.finditer(text):
        tok = m.group()
        if tok.startswith("//") or tok.startswith("/*"):
            continue
        if tok in "{([":
            depth += 1
        elif tok in "})]":
            depth = max(0, depth - 1)
        if depth == 0 and tok in (";", "}"):
            out.append(text[start:m.end()].strip())
            start = m.end()
    return [d for d in out if d]


@st.composite
def _token_edit(draw: st.DrawFn, text: str) -> str:
    toks = tokens(text)
    if not toks:
        return text
    k = draw(st.integers(0, len(toks) - 1))
    a, b = toks[k]
    kind = draw(st.sampled_from(["delete", "duplicate", "swap", "replace", "insert", "huge"]))
    if kind == "delete":
        return text[:a] + text[b:]
    if kind == "duplicate":
        return text[:b] + " " + text[a:b] + text[b:]
    if kind == "swap" and k + 1 < len(toks):
        c, d = toks[k + 1]
        return text[:a] + text[c:d] + text[b:c] + text[a:b] + text[d:]
    if kind == "huge":
        numbers = [(x, y) for x, y in toks if text[x:y].isdigit()]
        if numbers:
            a, b = draw(st.sampled_from(numbers))
        return text[:a] + draw(st.sampled_from(_HUGE)) + text[b:]
    other = text[slice(*draw(st.sampled_from(toks)))]
    word = draw(st.one_of(st.sampled_from(_KEYWORDS), st.sampled_from(_PUNCT), st.just(other)))
    if kind == "insert":
        return text[:a] + word + " " + text[a:]
    return text[:a] + word + text[b:]


@st.composite
def _line_edit(draw: st.DrawFn, text: str) -> str:
    lines = text.split("\n")
    k = draw(st.integers(0, len(lines) - 1))
    kind = draw(st.sampled_from(["delete", "duplicate", "swap", "truncate"]))
    if kind == "delete":
        del lines[k]
    elif kind == "duplicate":
        lines.insert(k, lines[k])
    elif kind == "swap" and k + 1 < len(lines):
        lines[k], lines[k + 1] = lines[k + 1], lines[k]
    else:
        return text[:draw(st.integers(0, len(text)))]
    return "\n".join(lines)


@st.composite
def _splice(draw: st.DrawFn, text: str) -> str:
    """A declaration of another model (or of this one) put somewhere between declarations."""
    donor = declarations(SOURCES[draw(st.sampled_from(sorted(SOURCES)))])
    mine = declarations(text)
    if not donor:
        return text
    piece = draw(st.sampled_from(donor))
    k = draw(st.integers(0, len(mine)))
    return "\n".join([*mine[:k], piece, *mine[k:]]) + "\n"


@st.composite
def _nest(draw: st.DrawFn, text: str) -> str:
    """Brackets, or blocks, nested deeply around (or instead of) a token."""
    toks = tokens(text)
    n = draw(st.sampled_from([50, 199, 200, 201, 1000, 20000]))
    kind = draw(st.sampled_from(["paren", "bracket", "brace", "if", "not", "minus"]))
    a, b = draw(st.sampled_from(toks)) if toks else (0, 0)
    inner = text[a:b] or "x"
    if kind == "paren":
        wrapped = "(" * n + inner + ")" * n
    elif kind == "bracket":
        wrapped = "[" * n + inner + "]" * n
    elif kind == "brace":
        wrapped = "{" * n + inner + "}" * n
    elif kind == "if":
        wrapped = "if true { " * n + inner + " }" * n
    elif kind == "not":
        wrapped = "not " * n + inner
    else:
        wrapped = "- " * n + inner
    return text[:a] + wrapped + text[b:]


def mutated_model() -> st.SearchStrategy[tuple[str, str]]:
    """(name of the model it came from, mutated text): one to four edits of a real model."""

    @st.composite
    def build(draw: st.DrawFn) -> tuple[str, str]:
        name = draw(st.sampled_from([*sorted(SOURCES), *SEEDS * _SEED_WEIGHT]))
        text = SOURCES[name]
        for _ in range(draw(st.integers(1, 4))):
            edit = draw(st.sampled_from([_token_edit, _token_edit, _token_edit, _line_edit, _splice, _nest]))
            text = draw(edit(text))
        return name, text

    return build()


def random_text() -> st.SearchStrategy[str]:
    """Text with QDL's tokens in it, or any text at all."""
    word = st.one_of(st.sampled_from(_KEYWORDS), st.sampled_from(_PUNCT), st.sampled_from(_HUGE[:6]),
                     st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True))
    qdl_soup = st.lists(word, max_size=80).map(" ".join)
    return st.one_of(qdl_soup, st.text(max_size=400))


def project(directory: Path) -> Path:
    """A copy of the repository's QDL files under `directory` (once): a mutated model written
    into its `models/` finds the files it uses (`lib/blk.qdl`, `../specs/hooks/...`)."""
    for rel, text in SOURCES.items():
        target = directory / rel
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
    return directory / "models"


def write_model(directory: Path, text: str | bytes, name: str = "fuzz.qdl") -> Path:
    path = directory / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
    return path


# ------------------------------------------------------------------ escapes

# What a hostile model hides in the text it makes the tool show: terminal escape sequences (clear
# the screen, move the cursor, colour, set the window title, hyperlinks), single control
# characters, C1 controls, and the bidirectional overrides that reorder a line on screen.
ESCAPES = ("\x1b[2J\x1b[H", "\x1b[1A\x1b[2K", "\x1b[32m", "\x1b]0;owned\x07", "\x1b]8;;http://x\x1b\\",
           "\x1bc", "\r", "\x08\x08\x08", "\x07", "\x00", "\x7f", "\x9b2J", "\x85", "\u202e", "\u2066",
           "\x0b", "\x0c")
FAKE = "Verdict: holds (exit 0)"

# What the terminal must never receive raw: every control character but the line break, and the
# bidirectional overrides and isolates.
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def hostile_text() -> st.SearchStrategy[str]:
    """Text with escapes in it, as a comment, a string or a name would carry it (no `"`, no line break)."""
    piece = st.one_of(st.sampled_from(ESCAPES), st.sampled_from([FAKE, "x", " ", "é", "\u2192"]),
                      st.characters(min_codepoint=0, max_codepoint=0x9f).filter(lambda c: c not in '"\n'))
    return st.lists(piece, min_size=1, max_size=6).map("".join).filter(lambda t: RAW.search(t) is not None)


# Where a model or command line puts hostile text that is then shown: each place is a template of
# a model (`{}` the text) and what the run shows it through.
ESCAPE_PLACES = {
    "comment-on-error-line": "var x: 0..3 = y; // {}\n",
    "comment-in-statement": "var x: 0..3 = 0;\nprocess P {{ while x < 3 {{ x := x /* {} */ + 1; }} }}\n"
                            "invariant small: x < 2;\n",
    "block-comment-over-lines": "var x: 0..3 = 0; /* {}\n{} */ var y: bool = 3;\n",
    "use-path": 'use "{}.qdl";\nvar x: 0..3 = 0;\naction a {{ skip; }}\n',
    "use-path-not-qdl": 'use "{}";\nvar x: 0..3 = 0;\naction a {{ skip; }}\n',
    "bad-character": "var x: 0..3 = 0;\naction a {{ x := 1 {} ; }}\n",
    "hook-string": 'hook h: "{}" at after_suspend binds P;\nobligation o: "{}";\nvar x: 0..3 = 0;\n',
}


def assert_escaped(r: Run) -> None:
    """Nothing raw reached the terminal: every control character came out escaped."""
    shown = r.out + r.err
    m = RAW.search(shown)
    assert m is None, f"raw {m.group()!r} in the output of {r.argv[:6]}:\n{shown[-2000:]!r}"


# ------------------------------------------------------------------ links

# The files a run writes, and what a planted link at each name may point to.
LINK_SPOTS = ("--json", "--itf", "--html", "checkpoint-temporary", "checkpoint-probe", "checkpoint-stale",
              "checkpoint-file", "lock")
LINK_TARGETS = ("victim", "missing", "directory", "chain", "self", "dangling-in-folder")


@st.composite
def planted_links(draw: st.DrawFn) -> list[tuple[str, str]]:
    """One to four (spot, target) pairs: where links are planted, and to what."""
    spots = draw(st.lists(st.sampled_from(LINK_SPOTS), min_size=1, max_size=4, unique=True))
    return [(s, draw(st.sampled_from(LINK_TARGETS))) for s in spots]


__all__ = ["ESCAPES", "ESCAPE_PLACES", "FAKE", "Hang", "LINK_SPOTS", "LINK_TARGETS", "README_CODES", "RAW", "Run",
           "SEEDS", "SOURCES", "assert_escaped", "assert_polite", "declarations", "hostile_text", "mutated_model",
           "planted_links", "project", "random_text", "run_cli", "tokens", "write_model"]
