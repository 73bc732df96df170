"""The Z3 encoding against the compiled model, state by state.

For every state the explicit search reaches, the encoding must give the same
successor set (enumerated with blocking clauses), fail exactly where a step
fails (and by an assertion where only an assertion can fail, by a model error
where only a model error can), and agree on every invariant, goal, final
property, premise and terminal predicate, and on whether evaluating them is a
runtime model error. Every repository model (its first states), then random
models from hypothesis, in both integer encodings; random models with step
properties and liveness properties too, every step with its action.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import z3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quiesce_check.build import Built, build_file, build_text
from quiesce_check.compile.layout import State
from quiesce_check.compile.model import AssertFailure, StepError
from quiesce_check.compile.z3gen import ENCODINGS, Encoding, EncodingError, bv_width, encode
from tests.compile.test_differential import bool_expr, random_model
from tests.conftest import build, model_files


def successors(enc: Encoding, solver: z3.Solver, s: State) -> set[State]:
    out = set()
    solver.push()
    solver.add(enc.equals(0, s), enc.step(0), enc.at(enc.ranges, 1))
    while solver.check() == z3.sat:
        t = enc.state(solver.model(), 1)
        out.add(t)
        solver.add(z3.Not(enc.equals(1, t)))
    solver.pop()
    return out


def can(solver: z3.Solver, enc: Encoding, s: State, template: z3.BoolRef) -> bool:
    solver.push()
    solver.add(enc.equals(0, s))
    answer = solver.check(enc.at(template, 0)) == z3.sat
    solver.pop()
    return answer


def value(f: Any, s: State) -> Any:
    try:
        return f(s)
    except StepError:
        return "error"


def agree(built: Built, arith: str, limit: int) -> int:
    """Explore from the initial states (at most `limit` states), comparing each."""
    m = built.model
    ctx = z3.Context()
    enc = encode(built.program, ctx, arith)
    solver = z3.SolverFor("QF_BV" if arith == "bv" else "QF_FD", ctx=ctx)
    init = list(m.initial_states())
    solver.push()
    solver.add(enc.at(enc.init, 0), enc.at(enc.ranges, 0))
    z_init = set()
    while solver.check() == z3.sat:
        s = enc.state(solver.model(), 0)
        z_init.add(s)
        solver.add(z3.Not(enc.equals(0, s)))
    solver.pop()
    assert z_init == set(init)
    seen, todo = set(init), list(init)
    while todo and len(seen) <= limit:
        s = todo.pop()
        try:
            succ, kind = {t for _, _, t in m.successors(s)}, "ok"
        except AssertFailure:
            succ, kind = set(), "assert"
        except StepError:
            succ, kind = set(), "error"
        error, failed = can(solver, enc, s, enc.step_error), can(solver, enc, s, enc.step_failed)
        if kind == "ok":
            assert not error and not failed, s
            assert can(solver, enc, s, enc.enabled) == bool(succ), s
            assert successors(enc, solver, s) == succ, s
            todo += [t for t in succ if t not in seen]
            seen |= succ
        else:
            assert error or failed, (s, kind)
            assert (kind == "assert") == (failed and not error) or (error and failed), (s, kind)
        solver.push()
        solver.add(enc.equals(0, s))
        assert solver.check() == z3.sat
        model = solver.model()
        solver.pop()

        def holds(t: z3.BoolRef, model: z3.ModelRef = model) -> bool:
            return z3.is_true(model.eval(enc.at(t, 0), model_completion=True))

        violations = value(m.violations, s)
        assert (violations == "error") == holds(enc.inv_error), s
        if violations != "error":
            assert violations == [k for k, t in enumerate(enc.invariants) if not holds(t)], s
            reached = value(m.reached, s)
            assert (reached == "error") == holds(enc.goal_error), s
            if reached != "error":
                assert reached == [k for k, t in enumerate(enc.goals) if holds(t)], s
        finals, ends = value(m.final_violations, s), value(m.end_reached, s)
        assert ("error" in (finals, ends)) == holds(enc.final_error), s
        if not holds(enc.final_error):
            assert finals == [k for k, t in enumerate(enc.finals) if not holds(t)], s
            assert ends == [k for k, t in enumerate(enc.end_goals) if holds(t)], s
        terminal = value(m.is_terminal, s)
        assert (terminal == "error") == holds(enc.terminal_error), s
        if terminal != "error":
            assert terminal == holds(enc.terminal), s
    return len(seen)


# A model with more slots than this is checked in CI on fewer states, with bit-vectors only
LARGE = 40


@pytest.mark.parametrize("path", model_files(), ids=lambda p: p.name)
def test_repository_models(path: Path) -> None:
    built = build_file(str(path))
    large = len(built.program.layout.slots) > LARGE
    for arith in ("bv",) if large else ENCODINGS:   # the slow test checks large ones with integers too
        assert agree(built, arith, limit=15 if large else 60) > 1


@pytest.mark.slow
@pytest.mark.parametrize("arith", ENCODINGS)
@pytest.mark.parametrize("path", model_files(), ids=lambda p: p.name)
def test_repository_models_further(path: Path, arith: str) -> None:
    assert agree(build_file(str(path)), arith, limit=2000) > 1


@pytest.mark.parametrize("variant", ["PERSISTENT", "KEEP_PROCESSING", "RESPOND_FIRST"])
def test_precopy_variants(variant: str) -> None:
    assert agree(build_file("models/precopy_backend.qdl", {variant: True}), "bv", limit=80) > 50


@settings(max_examples=int(os.environ.get("QC_EXAMPLES", "12")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(random_model())
def test_random_models_agree(text: str) -> None:
    built = build_text(text, "random.qdl")
    for arith in ENCODINGS:
        agree(built, arith, limit=300)


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_model())
def test_many_random_models_agree(text: str) -> None:
    test_random_models_agree.hypothesis.inner_test(text)  # type: ignore[attr-defined]


def test_semantics_of_division_and_remainder() -> None:
    # Python's floor division and remainder, with negative operands, in both encodings
    text = """
var a: -7..7 = any;
var b: -3..3 = any;
var q: -8..8 = 0;
var r: -3..3 = 0;
action divide when b != 0 { q := a / b; r := a % b; }
"""
    built = build(text)
    for arith in ENCODINGS:
        agree(built, arith, limit=500)


def test_bit_vectors_are_wide_enough() -> None:
    built = build("param N = 1000; var x: 0..N = 0; action a when x < N { x := (x * x + 7) % (N + 1); }")
    # x * x reaches 10^6: 20 bits and a sign
    assert bv_width(built.program) >= 21
    agree(built, "bv", limit=50)


def test_too_many_paths_is_refused() -> None:
    built = build("""
var x: 0..255 = 0;
action a(p in 0..255, q in 0..255) { x := p; }
""")
    with pytest.raises(EncodingError):
        encode(built.program, z3.Context(), "bv")


def test_variable_names_are_internal() -> None:
    built = build("var __import__: 0..2 = 0; action eval { __import__ := 1; } invariant exec: __import__ < 2;")
    enc = encode(built.program, z3.Context(), "bv")
    text = enc.trans.sexpr() + enc.at(enc.invariants[0], 3).sexpr()
    for word in ("__import__", "eval", "exec"):
        assert word not in text


# ------------------------------------------------------------------ step properties and liveness


@st.composite
def temporal_model(draw: st.DrawFn) -> str:
    """A random model with a step property and liveness properties whose evaluation may fail
    (indexes, remainders): the encoding must fail where the compiled model does."""
    text = draw(random_model())
    after = re.sub(r"\b(x|y|b)\b", r"\1'", draw(bool_expr(2)))
    p, q = draw(bool_expr(2)), draw(bool_expr(1))
    return text + (f"always step st: ({draw(bool_expr(1))}) => ({after}) or by(P0);\n"
                   f"liveness lv: {p} ~> {q};\nliveness ev: eventually {q};\n")


def agree_on_temporal(built: Built, arith: str, limit: int) -> None:
    """Every step property's value over every step from the first `limit` states, with its
    action, and every liveness predicate in those states, as the compiled model gives them."""
    m = built.model
    ctx = z3.Context()
    enc = encode(built.program, ctx, arith)
    solver = z3.SolverFor("QF_BV" if arith == "bv" else "QF_FD", ctx=ctx)
    seen, todo = set(m.initial_states()), list(m.initial_states())
    while todo and len(seen) <= limit:
        s = todo.pop()
        temporal = value(m.temporal, s)
        solver.push()
        solver.add(enc.equals(0, s))
        assert solver.check() == z3.sat
        model = solver.model()
        solver.pop()
        assert (temporal == "error") == z3.is_true(model.eval(enc.at(enc.temporal_error, 0), model_completion=True))
        if temporal != "error":
            assert temporal == [tuple(z3.is_true(model.eval(enc.at(x, 0), model_completion=True)) for x in pq)
                                for pq in enc.temporal], s
        try:
            succ = m.successors(s)
        except (AssertFailure, StepError):
            continue
        for a, _, t in succ:
            broken = value(lambda s, a=a, t=t: m.step_violations(s, a, t), s)
            solver.push()
            solver.add(enc.equals(0, s), enc.equals(1, t), enc.action(0) == (a if arith == "int" else
                                                                              z3.BitVecVal(a, enc.width, ctx)))
            assert solver.check(enc.at_step(enc.chosen, 0)) == z3.sat, (s, a, t)
            model = solver.model()
            solver.pop()

            def holds(template: z3.BoolRef, model: z3.ModelRef = model) -> bool:
                return z3.is_true(model.eval(enc.at_step(template, 0), model_completion=True))
            assert (broken == "error") == holds(enc.step_value_error), (s, a, t)
            if broken != "error":
                assert broken == [k for k, v in enumerate(enc.step_values) if not holds(v)], (s, a, t)
            if t not in seen:
                seen.add(t)
                todo.append(t)


@settings(max_examples=int(os.environ.get("QC_EXAMPLES", "12")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(temporal_model())
def test_step_properties_and_liveness_predicates_agree(text: str) -> None:
    built = build_text(text, "random.qdl")
    for arith in ENCODINGS:
        agree_on_temporal(built, arith, limit=200)
