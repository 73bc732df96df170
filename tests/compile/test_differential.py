"""The generated fast path against the reference interpreter: identical state graphs.

Every model in the repository, then random small models from hypothesis. Two
implementations that share only the parser, the checker and the slot layout
must agree on initial states, every state's successor set, and on which states
make a step fail (an assertion or a runtime model error).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quiesce_check.build import Built, build_file, build_text
from quiesce_check.compile.layout import State
from quiesce_check.compile.model import AssertFailure, Model, StepError
from quiesce_check.reference.interp import ReferenceModel
from tests.conftest import model_files


def outcome(model: Model, s: State) -> tuple[str, frozenset[State]]:
    try:
        return "ok", frozenset(t for _, _, t in model.successors(s))
    except AssertFailure:
        return "assert", frozenset()
    except StepError:
        return "error", frozenset()


def evaluate(f: object, s: State) -> object:
    try:
        return f(s)  # type: ignore[operator]
    except StepError:
        return "error"


def compare(built: Built, limit: int = 60_000) -> int:
    fast = built.model
    ref = ReferenceModel(built.checked, built.program.layout)
    init = list(fast.initial_states())
    assert sorted(init) == sorted(ref.initial_states())
    seen = set(init)
    todo = list(init)
    while todo:
        s = todo.pop()
        a, b = outcome(fast, s), outcome(ref, s)
        assert a == b, f"state {s}: compiled {a[0]} {sorted(a[1])}, reference {b[0]} {sorted(b[1])}"
        for name in ("violations", "reached", "is_terminal", "final_violations", "end_reached"):
            assert evaluate(getattr(fast, name), s) == evaluate(getattr(ref, name), s), (name, s)
        for t in a[1]:
            if t not in seen:
                seen.add(t)
                todo.append(t)
        if len(seen) > limit:
            break
    return len(seen)


@pytest.mark.parametrize("path", model_files(), ids=lambda p: p.name)
def test_repository_models(path: Path) -> None:
    # the reference interpreter runs a few hundred states a second: the first 4,000 states
    # (explored depth first, so deep into every model) in CI, every state in the slow run below
    assert compare(build_file(str(path)), limit=4_000) > 1


@pytest.mark.slow
@pytest.mark.parametrize("path", model_files(), ids=lambda p: p.name)
def test_repository_models_in_full(path: Path) -> None:
    assert compare(build_file(str(path)), limit=10**9) > 1


def test_precopy_variants_and_sizes() -> None:
    for params in ({"NPAGES": 3, "NREQ": 2}, {"PERSISTENT": True}, {"KEEP_PROCESSING": True},
                   {"RESPOND_FIRST": True, "NREQ": 2}, {"K": 2, "MAXV": 2}):
        assert compare(build_file("models/precopy_backend.qdl", params), limit=20_000) > 100


def test_whole_values_compared_evaluate_every_part() -> None:
    # FIXED: `==` and `!=` on arrays and records stopped at the first part that differs, where the
    # reference compares the whole values: a part that cannot be evaluated (here, a division by
    # zero behind a part that already differs) was an error in one and not in the other
    text = """var d: array[0..1] of 0..2 = [i in 0..1: 1];
var r: record { a: 0..9, b: 0..9 } = {a: 1, b: 1};
action zero(i in 0..1) when d[i] == 1 { d[i] := 0; }
action poke when {a: 3, b: 10 / d[1]} != r { r := {a: 2, b: 2}; }
invariant arrays: [10 / d[0], 10 / d[1]] != [3, 3];
"""
    # d takes its 4 values and r 2 ({1, 1}, then {2, 2} once `poke` ran with d[1] = 1); the states
    # where a step fails are compared but not expanded: all 8 are met
    assert compare(build_text(text, "parts.qdl")) == 8


# ---------------------------------------------------------------- random models

INT_VARS = {"x": 3, "y": 2}


@st.composite
def int_expr(draw: st.DrawFn, depth: int = 2, bound: tuple[str, ...] = ()) -> str:
    leaves = [*INT_VARS, "a[0]", "a[y]", "0", "1", "2", *bound]
    if depth == 0 or draw(st.booleans()):
        return draw(st.sampled_from(leaves))
    kind = draw(st.sampled_from(["+", "-", "*", "ite", "idx", "%"]))
    a = draw(int_expr(depth - 1, bound))
    b = draw(int_expr(depth - 1, bound))
    if kind == "ite":
        return f"(if {draw(bool_expr(depth - 1, bound))} then {a} else {b})"
    if kind == "idx":
        return f"a[{a}]"
    return f"({a} {kind} {b})"


@st.composite
def bool_expr(draw: st.DrawFn, depth: int = 2, bound: tuple[str, ...] = ()) -> str:
    if depth == 0 or draw(st.booleans()):
        choice = draw(st.sampled_from(["b", "cmp", "true", "false", "q"]))
        if choice == "cmp":
            op = draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">="]))
            return f"{draw(int_expr(1, bound))} {op} {draw(int_expr(1, bound))}"
        if choice == "q":
            k = draw(st.sampled_from(["forall", "exists"]))
            return f"({k} z in 0..2: a[z] <= {draw(st.sampled_from(['x', 'y', '1']))})"
        return choice
    op = draw(st.sampled_from(["and", "or", "=>", "not"]))
    a = draw(bool_expr(depth - 1, bound))
    if op == "not":
        return f"(not {a})"
    return f"({a} {op} {draw(bool_expr(depth - 1, bound))})"


@st.composite
def stmt(draw: st.DrawFn, depth: int, in_step: bool, bound: tuple[str, ...] = ()) -> str:
    kinds = ["assign", "assign", "await", "if", "either", "with", "assert", "call"]
    if not in_step:
        kinds += ["atomic", "while"]
    else:
        kinds += ["let"]
    kind = draw(st.sampled_from(kinds if depth > 0 else ["assign", "await"]))
    if not in_step and draw(st.integers(0, 3)) == 0:
        return "LBL: " + draw(stmt(depth, in_step, bound))
    if kind == "assign":
        target = draw(st.sampled_from(["x", "y", "b", "a[y]", "a[1]"]))
        value = draw(bool_expr(1, bound)) if target == "b" else draw(int_expr(2, bound))
        return f"{target} := {value};"
    if kind == "await":
        return f"await {draw(bool_expr(1, bound))};"
    if kind == "assert":
        return f"assert {draw(bool_expr(1, bound))} or x < 3;"
    if kind == "call":
        return f"bump({draw(int_expr(1, bound))}, {draw(bool_expr(1, bound))});"
    if kind == "let":
        var = f"t{depth}"
        # in a block of its own, so that sibling `let`s do not clash
        return f"if true {{ let {var} = {draw(int_expr(1, bound))}; x := ({var} + {draw(int_expr(1, (*bound, var)))}) % 4; }}"
    if kind == "if":
        t = draw(block(depth - 1, in_step, bound))
        e = draw(block(depth - 1, in_step, bound))
        return f"if {draw(bool_expr(1, bound))} {{ {t} }} else {{ {e} }}"
    if kind == "either":
        return f"either {{ {draw(block(depth - 1, in_step, bound))} }} or {{ {draw(block(depth - 1, in_step, bound))} }}"
    if kind == "with":
        var = f"w{depth}"
        body = draw(block(depth - 1, True, (*bound, var)))
        return f"with {var} in 0..2 where {draw(bool_expr(1, (*bound, var)))} {{ {body} }}"
    if kind == "atomic":
        return f"atomic {{ {draw(block(depth - 1, True, bound))} }}"
    return f"while {draw(bool_expr(1, bound))} {{ {draw(block(depth - 1, False, bound))} }}"


@st.composite
def block(draw: st.DrawFn, depth: int, in_step: bool, bound: tuple[str, ...] = ()) -> str:
    n = draw(st.integers(1, 3))
    return " ".join(draw(stmt(depth, in_step, bound)) for _ in range(n))


@st.composite
def random_model(draw: st.DrawFn) -> str:
    lines = [
        f"var x: 0..3 {draw(st.sampled_from(['= 0', '= 2', 'in {0, 1}']))};",
        f"var y: 0..2 {draw(st.sampled_from(['= 0', '= 1', '= any']))};",
        "var b: bool = false;",
        "var a: array[0..2] of 0..2 = [0, 1, 2];",
    ]
    # a def and a proc, used below (`half(...)` may appear wherever an integer may)
    lines.append(f"def half(k: 0..3) = {draw(int_expr(1, ('k',)))} / 2;")
    lines.append("proc bump(k: 0..2, c: bool) { if c { a[k % 3] := (a[k % 3] + 1) % 3; } else { y := k % 3; } }")
    labels: list[str] = []
    for i in range(draw(st.integers(1, 2))):
        body = draw(block(2, False, ("half(x)",)))
        n = 0
        while "LBL" in body:
            n += 1
            body = body.replace("LBL", f"l{n}", 1)
            labels.append(f"P{i}@l{n}")
        when = f" when {draw(bool_expr(1))}" if draw(st.booleans()) else ""
        lines.append(f"process P{i}{when} {{ {body} }}")
    for i in range(draw(st.integers(0, 2))):
        lines.append(f"action act{i}(v in 0..1) when {draw(bool_expr(1, ('v',)))} {{ {draw(block(1, True, ('v',)))} }}")
    lines.append(f"invariant inv: {draw(bool_expr(2))};")
    lines.append(f"invariant imp: {draw(bool_expr(1))} => {draw(bool_expr(1))};")
    lines.append(f"final fin: {draw(bool_expr(1, ('half(y)',)))};")
    lines.append(f"final fimp: forall z in 0..2: a[z] == {draw(st.sampled_from(['x', 'y', '1']))} => b;")
    lines.append(f"reachable goal: {draw(bool_expr(1))};")
    for k, at in enumerate(labels):
        lines.append(f"reachable at{k}: {at} and {draw(bool_expr(1))};")
    return "\n".join(lines) + "\n"


@settings(max_examples=int(__import__("os").environ.get("QC_EXAMPLES", "150")), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_model())
def test_random_models_agree(text: str) -> None:
    compare(build_text(text, "random.qdl"), limit=5_000)
