"""--continue that meets a model error or a failed assertion after a violation: the summary line,
the verdict and exit code, and `failure` and `note` in --json, with every engine and backend
that goes on past a violation.

The models (tests/cli/models/continue_*.qdl): process A breaks `low` in its one step; on the
interleaving where B runs alone, B's third statement fails. Every expected step, line and column
is read from the model's text here, never from the output checked.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from quiesce_check.compile.cgen import compiler
from quiesce_check.engines import with_support
from tests.cli.test_cli import check_json, model

HAS_CC = compiler() is not None

# each engine that goes on past a violation, and each way bfs searches
WAYS = {
    "bfs-python": ["--backend", "python"],
    "bfs-native": ["--backend", "native"],
    "bfs-workers": ["--workers", "2"],
    "bfs-fingerprint": ["--store", "fingerprint"],
    "bmc": ["--engine", "bmc"],
}
NEEDS_CC = {"bfs-native", "bfs-workers", "bfs-fingerprint"}


def ways() -> list[object]:
    return [pytest.param(argv, id=name, marks=pytest.mark.skipif(name in NEEDS_CC and not HAS_CC,
                                                                 reason="no C compiler"))
            for name, argv in WAYS.items()]


def test_every_engine_that_goes_on_past_a_violation_is_tested_here() -> None:
    assert {s.name for s in with_support("keep_going")} == {name.split("-")[0] for name in WAYS}


def block(lines: list[str], header: str) -> tuple[int, list[str]]:
    """A process's block: the index of its first statement's line, and its statements."""
    start = next(k for k, line in enumerate(lines) if line.startswith(header)) + 1
    end = next(k for k in range(start, len(lines)) if lines[k] == "}")
    return start, [line.strip() for line in lines[start:end]]


class Failing:
    """B's failing statement (the `nth` with its text), read from the model: its line (1-based)
    and column, its label (`B.L<line>`: a process statement is named by its line), and the steps
    to it (B's statements up to it, every one of them, on the one interleaving where B runs
    alone); and the steps that break `low` (A's statements)."""

    def __init__(self, name: str, statement: str, nth: int = 1) -> None:
        self.path = model(name)
        lines = Path(self.path).read_text().splitlines()
        start, body = block(lines, "process B")
        self.steps = [k for k, line in enumerate(body) if line == statement][nth - 1] + 1
        self.line = start + self.steps
        self.col = lines[self.line - 1].index(statement) + 1
        self.label = f"B.L{self.line}"
        self.at = f"{self.path}:{self.line}:{self.col}"
        self.low = len(block(lines, "process A")[1])
        self.value: int | None = None  # the value that leaves its type, for a model error


def out_of_range() -> Failing:
    """continue_model_error.qdl's failing statement: with y: 0..HI, the (HI + 1)th `y := y + 1`
    is the first to leave it."""
    name = "continue_model_error.qdl"
    hi = int(re.search(r"var y: 0\.\.(\d+)", Path(model(name)).read_text()).group(1))
    m = Failing(name, "y := y + 1;", hi + 1)
    m.value = hi + 1
    return m


def summary(out: str) -> str:
    """The line above the verdict."""
    lines = out.splitlines()
    return lines[next(k for k, line in enumerate(lines) if line.startswith("Verdict:")) - 1]


@pytest.mark.parametrize("argv", ways())
def test_a_model_error_after_a_violation_is_the_verdict_and_is_said(capsys, tmp_path, argv: list[str]) -> None:
    m = out_of_range()
    r, doc = check_json(capsys, tmp_path, m.path, "--continue", "--no-coverage", *argv)
    assert r.code == 75 and "Verdict: model error (exit 75)" in r.out
    said = summary(r.out)
    assert said.startswith(f"Model error at step {m.steps} ({m.label} at {m.at}): y := {m.value} is outside")
    assert "1 property left undecided (no deadlock)" in said and "outranks the violations also found (low)" in said
    assert (doc["verdict"], doc["exit_code"]) == ("model error", 75)
    assert {k: doc["failure"][k] for k in ("kind", "property", "step", "action", "at")} == {
        "kind": "model-error", "property": "model error", "step": m.steps, "action": m.label, "at": m.at}
    assert doc["failure"]["message"] == doc["traces"]["model error"]["message"] and f"y := {m.value}" in said
    assert doc["note"] == said[0].lower() + said[1:]
    assert {k: t["length"] for k, t in doc["traces"].items()} == {"low": m.low, "model error": m.steps}
    assert doc["traces"]["model error"]["steps"][m.steps]["failed"]
    assert {p["name"]: p["status"] for p in doc["properties"]} == {"low": "violated", "no deadlock": "incomplete"}


@pytest.mark.parametrize("argv", ways())
def test_a_failed_assertion_after_a_violation_is_said_and_the_shortest_decides(capsys, tmp_path,
                                                                              argv: list[str]) -> None:
    m = Failing("continue_assert.qdl", "assert y < 2;")
    r, doc = check_json(capsys, tmp_path, m.path, "--continue", "--no-coverage", *argv)
    # `low` (one step) is shorter than the assertion (three): a violation's code, 12
    assert m.low < m.steps and r.code == 12 and doc["verdict"] == "violated"
    said = summary(r.out)
    assert said.startswith(f"Failed assertion at step {m.steps} ({m.label}): assertion `y < 2` at {m.at} ")
    assert "1 property left undecided (no deadlock)" in said and "outranks" not in said
    assert {k: doc["failure"][k] for k in ("kind", "step", "action", "at")} == {
        "kind": "assertion", "step": m.steps, "action": m.label, "at": m.at}
    assert doc["note"] == said[0].lower() + said[1:]
    assert {p["name"]: p["status"] for p in doc["properties"]} == {
        "low": "violated", "assert y < 2": "violated", "no deadlock": "incomplete"}


def test_without_continue_the_violation_ends_the_search_before_the_model_error(capsys, tmp_path) -> None:
    r, doc = check_json(capsys, tmp_path, out_of_range().path, "--no-coverage", "--backend", "python")
    assert r.code == 12 and doc["failure"] is None and doc["note"] is None
    assert summary(r.out) == "" and list(doc["traces"]) == ["low"]


@pytest.mark.parametrize("argv", [a for a in ways() if a.id in ("bfs-python", "bfs-native", "bmc")])
def test_a_property_that_cannot_be_evaluated_after_a_violation_is_said_in_its_state(capsys, tmp_path,
                                                                                   argv: list[str]) -> None:
    path = tmp_path / "ratio.qdl"
    text = ("var x: 0..3 = 0;\naction inc when x < 3 { x := x + 1; }\ninvariant low: x < 1;\n"
            "invariant ratio: 6 / (2 - x) >= 0;\n")
    path.write_text(text)
    # x is 2, so 2 - x is 0, two steps in; the division starts at its `6`, on line 4
    col = text.splitlines()[3].index("6 /") + 1
    r, doc = check_json(capsys, tmp_path, str(path), "--continue", "--no-coverage", *argv)
    assert r.code == 75 and doc["verdict"] == "model error"
    assert summary(r.out).startswith(f"Model error in the state after step 2: evaluating an invariant: "
                                     f"division by zero in `/` at {path}:4:{col}")
    assert {k: doc["failure"][k] for k in ("kind", "step", "action", "at")} == {
        "kind": "model-error", "step": 2, "action": None, "at": None}
