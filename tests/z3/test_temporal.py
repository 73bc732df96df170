"""Step properties and liveness with the symbolic engines, held to the explicit search.

bmc finds step-property violations at the length bfs does (both shortest), and fair
lassos no longer than bfs's: it searches lengths in order, so its first lasso has the
fewest steps, prefix and cycle together. A liveness property holds for bmc only when no
longer lasso can be the shortest (never on the bound alone). Small models with figures
worked out by hand; every repository model and random models with properties, fairness
and step properties appended, against bfs in Python; k-induction's proofs of step
properties held to bfs.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from quiesce_check.build import Built, build_file, build_text, read_model
from quiesce_check.compile import z3gen
from quiesce_check.compile.model import Model
from quiesce_check.engines import ENGINES, Refused, run_checked
from quiesce_check.engines.bfs import bfs
from quiesce_check.engines.bmc import bmc
from quiesce_check.engines.induction import induction
from quiesce_check.engines.result import NullReporter, Options, Result, Status, Verdict
from quiesce_check.lang.errors import ModelError
from quiesce_check.lang.types import TBool, TInt
from quiesce_check.trace.types import Step, Trace
from tests.compile.test_differential import random_model
from tests.conftest import ROOT, build, model_files

# ------------------------------------------------------------------ what a lasso must be


def is_fair_lasso(model: Model, t: Trace) -> bool:
    """The semantics of the common brief, state by state: a path from an initial state whose last
    state is its loop state, fair for every fairness assumption over the cycle, breaking its
    property (checked by the caller through `breaks`)."""
    if t.loop is None or t.states[0] not in model.initial_states() or t.states[-1] != t.states[t.loop]:
        return False
    for k, step in enumerate(t.steps):
        if (step.action, step.choices, t.states[k + 1]) not in model.successors(t.states[k]):
            return False
    cycle, taken = t.states[t.loop:], {s.action for s in t.steps[t.loop:]}
    for f in model.info.fairness:
        covered = {a.index for a in model.info.actions if f.covers(a)}
        enabled = [any(a in covered for a, _, _ in model.successors(s)) for s in cycle]
        if (any(enabled) if f.strong else all(enabled)) and not covered & taken:
            return False
    return True


def breaks(model: Model, t: Trace) -> bool:
    """Whether the lasso breaks the property it names, for some instance of it."""
    assert t.loop is not None
    for k, live in enumerate(model.info.liveness):
        if live.name != t.property:
            continue
        p = [model.temporal(s)[k][0] for s in t.states]
        q = [model.temporal(s)[k][1] for s in t.states]
        cyc = range(t.loop, len(t.states))
        if (live.kind == "eventually" and not any(p)) or \
                (live.kind == "always_eventually" and not any(p[j] for j in cyc)) or \
                (live.kind == "eventually_always" and not all(p[j] for j in cyc)) or \
                (live.kind == "leads_to" and not any(q[j] for j in cyc)
                 and any(p[i] and not any(q[i:]) for i in range(len(p)))):
            return True
    return False


def status(r: Result, name: str) -> Status:
    (row,) = [p for p in r.properties if p.name == name]
    return row.status


# ------------------------------------------------------------------ figures by hand

COUNTER = """
var x: 0..3 = 0;
process P { while true { x := (x + 1) % 4; } }
liveness reach_two: eventually x == 2;
liveness back_to_zero: always eventually x == 0;
liveness settles: eventually always x == 0;
liveness one_then_two: x == 1 ~> x == 2;
always step counts: x' == (x + 1) % 4;
"""


def test_without_fairness_a_behaviour_may_stop_anywhere() -> None:
    built = build(COUNTER)
    r = bmc(built.model, Options(depth=6, keep_going=True))
    # with no fairness, P may stop at once (x = 0 for ever: 0 steps) or after one step (x = 1 for
    # ever: `always eventually x == 0`, `eventually always x == 0` and `x == 1 ~> x == 2` broken)
    lengths = {name: (len(t.steps), t.loop) for name, t in r.traces.items()}
    assert lengths == {"reach_two": (0, 0), "back_to_zero": (1, 1), "settles": (1, 1), "one_then_two": (1, 1)}
    # the step property holds: every reachable state (x = 0..3, 3 steps at most) was expanded
    assert status(r, "counts") is Status.HOLDS
    assert all(is_fair_lasso(built.model, t) and breaks(built.model, t) for t in r.traces.values())


def test_weak_fairness_of_the_process_leaves_only_the_cycle() -> None:
    built = build(COUNTER + "fair process P;\n")
    r = bmc(built.model, Options(depth=12, keep_going=True))
    # P steps for ever: x goes 0, 1, 2, 3, 0, ...; only `eventually always x == 0` fails, on the
    # cycle of 4 steps from the initial state
    assert set(r.traces) == {"settles"}
    t = r.traces["settles"]
    assert (len(t.steps), t.loop) == (4, 0) and t.states[-1] == t.states[0]
    assert is_fair_lasso(built.model, t) and breaks(built.model, t)
    for name in ("reach_two", "back_to_zero", "one_then_two", "counts"):
        assert status(r, name) is Status.HOLDS, name
    assert r.verdict is Verdict.LIVENESS and r.exit_code == 13
    # the property that holds is not called holds on the bound: at depth 3 it is undecided
    short = bmc(built.model, Options(depth=3, keep_going=True))
    assert status(short, "reach_two") is Status.INCOMPLETE


# A, B, C as s = 0, 1, 2: f1 goes A -> B, g back; f2 goes A -> C, h back. The longest loop-free
# path from A has 1 step, yet with f1 and f2 strongly fair and the system weakly fair the shortest
# fair behaviour's cycle is A -> B -> A -> C -> A, 4 steps: it visits A twice.
ABC = """
var s: 0..2 = 0;
action f1 when s == 0 { s := 1; }
action g when s == 1 { s := 0; }
action f2 when s == 0 { s := 2; }
action h when s == 2 { s := 0; }
fair system;
"""


@pytest.mark.parametrize("encoding", z3gen.ENCODINGS)
def test_a_fair_cycle_may_be_longer_than_every_loop_free_path(encoding: str) -> None:
    built = build(ABC + "strong fair action f1;\nstrong fair action f2;\nliveness never: eventually false;\n")
    for depth in (1, 2, 3):
        r = bmc(built.model, Options(depth=depth, encoding=encoding))
        assert r.verdict is Verdict.INCOMPLETE and status(r, "never") is Status.INCOMPLETE, depth
        # from depth 2 on, bmc knows every reachable state is within 1 step: not enough
        assert r.symbolic is not None and r.symbolic.complete_at == (1 if depth >= 2 else None)
    r = bmc(built.model, Options(depth=4, encoding=encoding))
    assert r.verdict is Verdict.LIVENESS and r.trace is not None
    assert (len(r.trace.steps), r.trace.loop) == (4, 0)
    assert sorted({built.model.info.actions[s.action].name for s in r.trace.steps}) == ["f1", "f2", "g", "h"]
    assert is_fair_lasso(built.model, r.trace) and breaks(built.model, r.trace)
    explicit = bfs(built.model, Options(backend="python"))
    assert explicit.trace is not None and len(explicit.trace.steps) == 4


def test_strong_and_weak_fairness_differ() -> None:
    # strongly fair f2 is taken: every fair behaviour visits C again and again; weakly fair, it is
    # disabled at B, so A -> B -> A for ever (2 steps) is fair and never visits C
    strong = build(ABC + "strong fair action f1;\nstrong fair action f2;\nliveness c: always eventually s == 2;\n")
    weak = build(ABC + "fair action f1;\nfair action f2;\nliveness c: always eventually s == 2;\n")
    r = bmc(strong.model, Options(depth=20))
    assert r.verdict is Verdict.HOLDS and status(r, "c") is Status.HOLDS and r.complete
    assert bfs(strong.model, Options(backend="python")).verdict is Verdict.HOLDS
    r = bmc(weak.model, Options(depth=20))
    assert r.verdict is Verdict.LIVENESS and r.trace is not None and (len(r.trace.steps), r.trace.loop) == (2, 0)
    assert is_fair_lasso(weak.model, r.trace)


def test_a_state_without_successors_stutters() -> None:
    # x counts to 2 and stops; weak fairness cannot move it on: `eventually x == 3` fails after 2 steps
    built = build("var x: 0..3 = 0;\naction up when x < 2 { x := x + 1; }\nfair system;\nterminal t: x == 2;\n"
                  "liveness three: eventually x == 3;\nliveness two: eventually x == 2;\n")
    r = bmc(built.model, Options(depth=5, keep_going=True))
    t = r.traces["three"]
    assert (len(t.steps), t.loop) == (2, 2) and status(r, "two") is Status.HOLDS


def test_leads_to_met_before_the_cycle() -> None:
    # x climbs 0, 1, 2, 3 and stays there, each step weakly fair: after x == 0 comes x == 2, and
    # the behaviour ends at 3 for ever; only `x == 3 ~> x == 0` fails, after 3 steps
    built = build("var x: 0..3 = 0;\naction up when x < 3 { x := x + 1; }\nfair system;\nterminal t: x == 3;\n"
                  "liveness zero_two: x == 0 ~> x == 2;\nliveness one_two: x == 1 ~> x >= 2;\n"
                  "liveness three_zero: x == 3 ~> x == 0;\nliveness climbs: always eventually x == 3;\n")
    r = bmc(built.model, Options(depth=12, keep_going=True))
    assert set(r.traces) == {"three_zero"} and (len(r.traces["three_zero"].steps), r.traces["three_zero"].loop) == (3, 3)
    assert all(status(r, name) is Status.HOLDS for name in ("zero_two", "one_two", "climbs"))


PETERSON = (ROOT / "examples" / "peterson.qdl").read_text()
ENTER = "liveness enter(p in Proc): P[p]@a1 ~> P[p]@cs;\n"


def test_peterson_is_starvation_free_under_weak_fairness_only() -> None:
    # Peterson.tla of the TLA+ Examples checks StarvationFree under weak fairness of each process;
    # without it process 1 may take its first step (to a1) and stop there for ever: 1 step
    unfair = build_text(PETERSON + ENTER, "p.qdl", select=["enter"])
    r = bmc(unfair.model, Options(depth=5))
    assert r.verdict is Verdict.LIVENESS and r.trace is not None and (len(r.trace.steps), r.trace.loop) == (1, 1)
    fair = build_text(PETERSON + ENTER + "fair process P;\n", "p.qdl", select=["enter"])
    assert bfs(fair.model, Options(backend="python")).verdict is Verdict.HOLDS
    # no lasso within the bound; bmc cannot know there is none longer (its lasso search has
    # loop-free paths longer than the 38 steps of the model's own)
    r = bmc(fair.model, Options(depth=25))
    assert r.verdict is Verdict.INCOMPLETE and r.trace is None and status(r, "enter") is Status.INCOMPLETE


def test_a_step_property_violated_at_its_shortest_step() -> None:
    # `down` first fires from x = 1, after one step up: the violation is 2 steps long
    built = build("var x: 0..3 = 0;\naction up when x < 3 { x := x + 1; }\naction down when x > 0 { x := x - 1; }\n"
                  "always step rises: by(up) or x' == x;\n")
    r = bmc(built.model, Options(depth=4))
    assert r.verdict is Verdict.VIOLATED and r.trace is not None and r.trace.kind == "action"
    assert [built.model.info.actions[s.action].name for s in r.trace.steps] == ["up", "down"]
    assert r.exit_code == 12


def test_the_action_a_step_takes_decides_a_step_property() -> None:
    # both actions lead from x = 0 to x = 1; only `b` breaks the property: the trace must name it
    built = build("var x: 0..1 = 0;\naction a when x == 0 { x := 1; }\naction b when x == 0 { x := 1; }\n"
                  "always step not_b: not by(b);\n")
    r = bmc(built.model, Options(depth=2))
    assert r.trace is not None and [built.model.info.actions[s.action].name for s in r.trace.steps] == ["b"]


def test_a_model_error_evaluating_a_step_property() -> None:
    built = build("var x: 0..2 = 2;\naction down when x > 0 { x := x - 1; }\nalways step q: 4 / x' > 0;\n")
    r = bmc(built.model, Options(depth=4))
    # x' = 0 after two steps down
    assert r.verdict is Verdict.MODEL_ERROR and r.trace is not None and len(r.trace.steps) == 2


def test_induction_proves_step_properties() -> None:
    built = build("var x: 0..20 = 0;\nvar y: 0..20 = 0;\naction up when x < 20 { x := x + 1; y := y + 1; }\n"
                  "action down when x > 0 { x := x - 1; y := y - 1; }\nalways step same: x' - x == y' - y;\n"
                  "always step level: x' == y';\n")
    r = induction(built.model, Options(depth=4))
    # `same` holds of every step from any state; `level` needs x == y before the step, which the
    # step before gives: 1-induction
    assert status(r, "same") is Status.HOLDS and status(r, "level") is Status.HOLDS
    details = {p.name: p.detail for p in r.properties}
    assert details["same"] == "proved by 0-induction" and details["level"] == "proved by 1-induction"
    # bmc, bounded at 4 steps, cannot say so (the longest loop-free path has 20 steps)
    assert status(bmc(built.model, Options(depth=4)), "level") is Status.INCOMPLETE


def test_induction_refuses_liveness() -> None:
    model = build(COUNTER + "fair process P;\n").model
    with pytest.raises(Refused, match="--engine induction does not check liveness properties"):
        run_checked(ENGINES["induction"], model, Options(depth=4), NullReporter())


# ------------------------------------------------------------------ random models

INTS = ["x", "y", "a[0]", "a[1]", "a[2]"]


@st.composite
def predicate(draw: st.DrawFn, step: bool = False, movers: tuple[str, ...] = (), bound: tuple[str, ...] = ()) -> str:
    """A boolean over the random model's variables that cannot fail to evaluate; over a step,
    with the values after it (`x'`) and who took it (`by(P0)`)."""
    after = ["x'", "y'", "a[1]'"] if step else []
    leaves = [*INTS, *after, *bound]

    def atom() -> str:
        kind = draw(st.sampled_from(["cmp", "cmp", "b", "by"] if step and movers else ["cmp", "cmp", "b"]))
        if kind == "b":
            return draw(st.sampled_from(["b", "not b", *(["b'", "not b'"] if step else [])]))
        if kind == "by":
            return f"by({draw(st.sampled_from(movers))})"
        op = draw(st.sampled_from(["==", "!=", "<", ">="]))
        return f"{draw(st.sampled_from(leaves))} {op} {draw(st.sampled_from([*leaves, '0', '1', '2']))}"
    out = atom()
    if draw(st.booleans()):
        out = f"({out}) {draw(st.sampled_from(['and', 'or', '=>']))} ({atom()})"
    return out


@st.composite
def temporal_model(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A random model with liveness properties, fairness and step properties appended; and the
    names of those properties (the only ones checked)."""
    text = draw(random_model())
    procs = [p for p in ("P0", "P1") if f"process {p}" in text]
    acts = [a for a in ("act0", "act1") if f"action {a}(" in text]
    labels = sorted(set(re.findall(r"reachable at\d+: (P\d)@(l\d+)", text)))
    targets = [f"process {p}" for p in procs] + [f"action {a}" for a in acts] + \
        [f"action {p}.{lbl}" for p, lbl in labels] + ["system"]
    lines = []
    for target in draw(st.lists(st.sampled_from(targets), max_size=3, unique=True)):
        lines.append(f"{draw(st.sampled_from(['', 'strong ']))}fair {target};")
    names = []
    for k in range(draw(st.integers(1, 3))):
        names.append(f"live{k}")
        params = draw(st.sampled_from(["", "(v in 0..2)"]))
        bound = ("v",) if params else ()
        p, q = draw(predicate(bound=bound)), draw(predicate(bound=bound))
        form = draw(st.sampled_from([f"{p} ~> {q}", f"eventually {p}", f"always eventually {p}",
                                     f"eventually always {p}"]))
        lines.append(f"liveness live{k}{params}: {form};")
    for k in range(draw(st.integers(0, 2))):
        names.append(f"step{k}")
        lines.append(f"always step step{k}: {draw(predicate(step=True, movers=tuple(procs + acts)))};")
    return text + "\n".join(lines) + "\n", names


FATAL = ("assertion", "model-error")


def agree_on_temporal(built: Built, bound: int | None = None) -> tuple[Result, Result]:
    """bfs (Python) and bmc at a depth that covers the model (at most `bound`): the same
    step-property verdicts with counterexamples of the same length; a liveness property broken by
    bfs is broken by bmc with a lasso no longer, and one that holds for bfs is never broken by bmc.
    What bfs finds beyond the bound, bmc need not."""
    model = built.model
    r_bfs = bfs(model, Options(backend="python", keep_going=True, check_deadlock=False))
    fatal = [t for t in r_bfs.traces.values() if t.kind in FATAL]
    if fatal:
        # the search ended at a failing step: bmc finds one as short (it may be another kind)
        length = min(len(t.steps) for t in fatal)
        r_bmc = bmc(model, Options(depth=min(length, bound or length), keep_going=True, check_deadlock=False))
        assert [len(t.steps) for t in r_bmc.traces.values() if t.kind in FATAL] == ([length] if length <= (
            bound or length) else [])
        return r_bfs, r_bmc
    assert r_bfs.complete
    # deep enough that bmc sees every step bfs saw and each of its lassos, and that on small models
    # its lasso search often runs out of loop-free paths (it then says what holds)
    depth = max([r_bfs.stats.depth + 1, *[len(t.steps) for t in r_bfs.traces.values()], DEEP])
    r_bmc = bmc(model, Options(depth=min(depth, bound or depth), keep_going=True, check_deadlock=False))
    assert not [t for t in r_bmc.traces.values() if t.kind in FATAL]
    within = min(depth, bound or depth)
    for sp in model.info.step_properties:
        if sp.name in r_bfs.traces and len(r_bfs.traces[sp.name].steps) <= within:
            assert len(r_bmc.traces[sp.name].steps) == len(r_bfs.traces[sp.name].steps), sp.name
        else:
            # holds once bmc knows every reachable state was expanded (no loop-free path is longer)
            assert sp.name not in r_bmc.traces, sp.name
            assert r_bmc.symbolic is not None
            assert status(r_bmc, sp.name) is (Status.HOLDS if r_bmc.symbolic.complete_at is not None
                                              else Status.INCOMPLETE), sp.name
    for name in dict.fromkeys(p.name for p in model.info.liveness):
        if name in r_bfs.traces and len(r_bfs.traces[name].steps) <= within:
            assert name in r_bmc.traces, name
            assert len(r_bmc.traces[name].steps) <= len(r_bfs.traces[name].steps), name
        elif name not in r_bfs.traces:
            assert name not in r_bmc.traces and status(r_bmc, name) in (Status.HOLDS, Status.INCOMPLETE), name
    for t in r_bmc.traces.values():
        if t.kind == "liveness":
            assert is_fair_lasso(model, t) and breaks(model, t), t
            assert not shorter_lasso(model, t.property, len(t.steps)), t
    return r_bfs, r_bmc


DEEP = 24


def shorter_lasso(model: Model, name: str, length: int, budget: int = 3000) -> bool:
    """Whether some lasso of fewer than `length` steps is fair and breaks property `name`: every
    path that short, each of its states tried as the loop's (only when there are at most
    `budget` paths; False otherwise)."""
    paths: list[tuple[tuple, tuple]] = [((s,), ()) for s in dict.fromkeys(model.initial_states())]
    for _ in range(length):
        for states, steps in paths:
            for loop in range(len(states)):
                if states[loop] == states[-1] and breaks_as(model, Trace(states, steps, "liveness", name, loop=loop)):
                    return True
        if len(paths) > budget:
            return False
        paths = [(states + (t,), steps + (Step(a, ch),)) for states, steps in paths
                 for a, ch, t in {(a, ch, t) for a, ch, t in model.successors(states[-1])}]
    return False


def breaks_as(model: Model, t: Trace) -> bool:
    return is_fair_lasso(model, t) and breaks(model, t)


@settings(max_examples=int(os.environ.get("QC_EXAMPLES", "30")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(temporal_model())
def test_random_models_agree_with_bfs(drawn: tuple[str, list[str]]) -> None:
    text, names = drawn
    try:
        built = build_text(text, "random.qdl", select=names)
    except ModelError as e:
        # fairness of a label no step starts at (control only passes through it) is refused
        assume(not any(d.code == "E043" for d in e.diagnostics))
        raise
    agree_on_temporal(built)


def test_a_failing_step_is_reported_not_a_stutter_before_it() -> None:
    # at x = 1 nothing fair is enabled (the only step there fails): a stutter there would be fair,
    # but the model is broken there; the failing step, after 1 step, makes a trace of 2 steps
    built = build("var x: 0..2 = 0;\naction up when x < 1 { x := x + 1; }\naction boom when x == 1 { assert false; }\n"
                  "fair system;\nliveness two: eventually x == 2;\n")
    r = bmc(built.model, Options(depth=3))
    assert r.verdict is Verdict.ASSERTION and r.trace is not None and len(r.trace.steps) == 2
    assert bfs(built.model, Options(backend="python")).verdict is Verdict.ASSERTION
    # at the bound the state is not expanded, as with bfs --max-depth 1: undecided
    assert bmc(built.model, Options(depth=1)).verdict is Verdict.INCOMPLETE


# ------------------------------------------------------------------ the repository's models


def with_temporal(path: Path, fairness: str) -> tuple[str, list[str]]:
    """The model's text with liveness and step properties over its first two global scalar
    variables appended (each against its initial value), and `fairness`: none, `fair system`, or
    each process weakly fair; and the names of those properties."""
    program = build_file(str(path)).program
    text = read_model(str(path))
    # plain variables first: an array's element is written with an integer index, which a
    # symmetric index type refuses
    scalars = [(i, s) for i, s in enumerate(program.layout.slots)
               if "." not in s.name and isinstance(s.type, TBool | TInt)]
    picks = sorted(scalars, key=lambda p: "[" in p[1].name)[:2]
    lines, names = [], []
    for k, (i, slot) in enumerate(picks):
        v, x = slot.name, program.initial[0][i]
        boolean = isinstance(slot.type, TBool)
        init = ("true" if x else "false") if boolean else str(x)
        moved = ("false" if x else "true") if boolean else f"{v} + 1"
        lines += [f"liveness ae{k}: always eventually {v} == {init};", f"liveness lt{k}: {v} != {init} ~> {v} == {init};",
                  f"liveness ea{k}: eventually always {v} == {init};", f"liveness ev{k}: eventually {v} != {init};",
                  f"always step st{k}: {v}' == {v} or {v}' == {moved};"]
        names += [f"ae{k}", f"lt{k}", f"ea{k}", f"ev{k}", f"st{k}"]
    if fairness == "system":
        lines.append("fair system;")
    elif fairness == "processes":
        lines += [f"fair process {p};" for p in sorted({a.process.split("[")[0] for a in program.actions if a.process})]
    return text + "\n" + "\n".join(lines) + "\n", names


def repository_cases() -> list[tuple[Path, str]]:
    # `fair process` naming a vocabulary's default process is refused by the front end today
    # ("declared twice"): the models that use xen (directly or through a library) or vhost, whose
    # processes the vocabulary already declares fair, get `fair system` only
    def vocabulary(path: Path) -> bool:
        text = path.read_text()
        return "use xen" in text or 'use "lib/' in text or "use vhost" in text
    return [(path, fairness) for path in model_files() for fairness in ("none", "system", "processes")
            if fairness != "processes" or not vocabulary(path)]


# the models checked in CI, at a depth that covers them: a few seconds each
SMALL = {"hanoi.qdl", "peterson.qdl", "peterson_broken.qdl", "two_phase_commit.qdl", "water_jugs.qdl",
         "s7a_xenstore_ring_unlogged.qdl", "s7b_xenstore_ring_torn_copy.qdl"}


@pytest.mark.parametrize(("path", "fairness"), [c for c in repository_cases() if c[0].name in SMALL],
                         ids=lambda c: c.name if isinstance(c, Path) else c)
def test_repository_models_agree_with_bfs(path: Path, fairness: str) -> None:
    text, names = with_temporal(path, fairness)
    agree_on_temporal(build_text(text, str(path), select=names))


@pytest.mark.slow
@pytest.mark.parametrize(("path", "fairness"), [c for c in repository_cases() if c[0].name not in SMALL],
                         ids=lambda c: c.name if isinstance(c, Path) else c)
def test_larger_repository_models_agree_with_bfs(path: Path, fairness: str) -> None:
    text, names = with_temporal(path, fairness)
    agree_on_temporal(build_text(text, str(path), select=names), bound=25)


@st.composite
def step_model(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A random model with step properties only, and their names (the only properties checked)."""
    text = draw(random_model())
    procs = tuple(p for p in ("P0", "P1") if f"process {p}" in text)
    names = [f"step{k}" for k in range(draw(st.integers(1, 3)))]
    lines = [f"always step {n}: {draw(predicate(step=True, movers=procs))};" for n in names]
    return text + "\n".join(lines) + "\n", names


@settings(max_examples=int(os.environ.get("QC_EXAMPLES", "20")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(step_model())
def test_induction_proves_only_what_bfs_finds_true(drawn: tuple[str, list[str]]) -> None:
    text, names = drawn
    model = build_text(text, "random.qdl", select=names).model
    r_bfs = bfs(model, Options(backend="python", check_deadlock=False))
    r = induction(model, Options(depth=6, check_deadlock=False))
    if r.trace is not None or r_bfs.trace is not None:
        # its base case is bmc: a violation is real and as short as bfs's
        assert r.trace is not None and r_bfs.trace is not None and len(r.trace.steps) == len(r_bfs.trace.steps)
        return
    for name in names:
        assert status(r, name) in (status(r_bfs, name), Status.INCOMPLETE), name
