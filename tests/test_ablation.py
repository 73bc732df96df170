"""`hook --ablate` compiles the composed model once, each obligation a variable set by the initial
state: every subset gives what the spec with that obligation switched off by hand gives through
`check_with` (the obligations constants, the model built and compiled for the subset): the same
verdicts, state counts, shortest counterexamples (step by step, state by state) and explanations.
And the ablation says where it is, on a terminal only."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from quiesce_check import hooks
from quiesce_check.build import Built
from quiesce_check.cli import _Progress
from quiesce_check.compile.cgen import compiler
from quiesce_check.engines import ENGINES, run_checked
from quiesce_check.engines.result import NullReporter, Options, Result
from quiesce_check.lang.errors import ModelError
from tests.conftest import ROOT

HOOKS = ROOT / "specs" / "hooks"
V2 = str(ROOT / "models" / "v2_blkfront_blkback.qdl")
SPLIT = str(HOOKS / "s15_handshake_split.qdl")
SPLIT_PARAMS = {"NREQS": 1, "PERSISTENT": True}
PYTHON = Options(keep_going=True, backend="python")
NATIVE = Options(keep_going=True, backend="native")

# (spec, model, parameters): every obligation of each is switched off in turn, both ways
CASES = [
    (SPLIT, V2, SPLIT_PARAMS),
    (str(HOOKS / "andrew_2014_called.qdl"), V2, {"NREQS": 1}),
    (str(HOOKS / "vhost_drain_before_reply.qdl"), str(HOOKS / "vhost_base.qdl"), {}),
]
SLOW_CASES = [
    (str(HOOKS / "s15_handshake.qdl"), V2, {"NREQS": 1}),
    (str(HOOKS / "s15_handshake_before_suspend.qdl"), str(ROOT / "models" / "lib" / "running_guest.qdl"),
     {"NREQS": 1}),
    (str(HOOKS / "vdpa_suspend_first.qdl"), str(HOOKS / "vdpa_base.qdl"), {}),
    (str(HOOKS / "vhost_skip_drain_inflight.qdl"), str(HOOKS / "vhost_base.qdl"), {}),
]


def setup(spec: str, model: str, params: dict) -> tuple[hooks.Hook, list[str]]:
    probe = hooks.build_composed(spec, model, params)
    return hooks.hook_of(probe), hooks.all_properties(probe)


def by_hand(spec: str, model: str, params: dict, hook: hooks.Hook, select: list[str], on: frozenset[str],
            options: Options) -> tuple[Built, Result, hooks.Outcome]:
    """Today's path: the obligations constants, the model built and compiled for this subset."""
    built, result = hooks.check_with(spec, model, params, {n: n in on for n in hook.obligations}, select, options)
    return built, result, hooks.summarise(built, result, on)


def switched_run(sw: hooks.Switched, on: frozenset[str], options: Options) -> Result:
    bfs = ENGINES["bfs"]
    return run_checked(bfs, sw.model_for(on), bfs.narrow(options), NullReporter())


def shape(built: Built, result: Result, drop: frozenset[int] = frozenset()) -> dict[str, object]:
    """Each counterexample as what it shows: the steps by the statement they ran and the values
    they chose, every state (without the slots in `drop`), the loop, the message."""
    actions = built.model.info.actions

    def step(s: object) -> tuple[object, ...]:
        a = actions[s.action]  # type: ignore[attr-defined]
        return (a.name, a.process, a.span, a.text, tuple(v for _, v in s.choices))  # type: ignore[attr-defined]

    return {name: (t.kind, t.message, t.loop, [step(s) for s in t.steps],
                   [tuple(v for i, v in enumerate(st) if i not in drop) for st in t.states])
            for name, t in result.traces.items()}


def compare(spec: str, model: str, params: dict, options: Options) -> None:
    hook, select = setup(spec, model, params)
    names = tuple(hook.obligations)
    sw = hooks.Switched(spec, model, params, names, select)
    drop = frozenset(sw.slots.values())
    for n in names:
        on = frozenset(names) - {n}
        built, result, outcome = by_hand(spec, model, params, hook, select, on, options)
        assert sw.outcome(on, options) == outcome, n
        mine = switched_run(sw, on, options)
        assert {p.name: p.status for p in mine.properties} == {p.name: p.status for p in result.properties}, n
        assert mine.stats.distinct == result.stats.distinct and mine.stats.depth == result.stats.depth, n
        assert shape(sw.built, mine, drop) == shape(built, result), n


@pytest.mark.parametrize("spec, model, params", CASES, ids=lambda x: str(x).rsplit("/", 1)[-1])
def test_each_obligation_off_gives_what_switching_it_off_by_hand_gives(spec: str, model: str, params: dict) -> None:
    compare(spec, model, params, PYTHON)


@pytest.mark.slow
@pytest.mark.parametrize("spec, model, params", SLOW_CASES, ids=lambda x: str(x).rsplit("/", 1)[-1])
def test_each_obligation_off_gives_the_same_on_every_shipped_spec(spec: str, model: str, params: dict) -> None:
    compare(spec, model, params, PYTHON)


@pytest.mark.skipif(compiler() is None, reason="no C compiler")
def test_the_compiled_search_gives_the_same_as_by_hand() -> None:
    compare(SPLIT, V2, SPLIT_PARAMS, NATIVE)


@pytest.mark.skipif(compiler() is None, reason="no C compiler")
@pytest.mark.parametrize("workers", [1, 2])
def test_every_subset_runs_on_one_compiled_library(workers: int, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # forked workers see it too
    hook, select = setup(SPLIT, V2, SPLIT_PARAMS)
    full = by_hand(SPLIT, V2, SPLIT_PARAMS, hook, select, frozenset(hook.obligations), NATIVE)[2]
    assert len(list(tmp_path.glob("quiesce-check/qc_*.so"))) == 1  # the full run's, obligations constants
    seen: list[hooks.Progress] = []
    ab = hooks.ablate(SPLIT, V2, SPLIT_PARAMS, hook, select, NATIVE, full, workers, seen.append)
    # one more library for every search of the ablation, in whichever process it ran
    assert len(list(tmp_path.glob("quiesce-check/qc_*.so"))) == 2
    # drain_io is implied by drain: the minimal set leaves it out, and the six others are needed
    assert ab.minimal == [frozenset(hook.obligations) - {"drain_io"}]
    assert not ab.breaks_without("drain_io")
    assert all(ab.breaks_without(n) for n in hook.obligations if n != "drain_io")
    # every subset but the full run's is one search: the only superset of the minimal set (of
    # size 6) is the full set
    assert len(seen) == 2 ** 7 - 1
    assert [p.k for p in seen] == list(range(1, len(seen) + 1))


def test_progress_counts_the_searches_left_and_shrinks_as_minimal_sets_are_found() -> None:
    hook = hooks.Hook("h", "", "p", (), {"a": "", "b": "", "c": ""})
    everything = frozenset(hook.obligations)
    full = hooks.Outcome(everything, {"x": "holds"}, {}, {})

    def outcome(on: frozenset[str]) -> hooks.Outcome:
        keeps = "a" in on  # {a} alone keeps every property: a superset of it needs no search
        return hooks.Outcome(on, {"x": "holds" if keeps else "violated"}, {}, {})

    seen: list[hooks.Progress] = []
    plan = hooks._Plan(tuple(hook.obligations), full, seen.append)
    search = lambda sets: (outcome(s) for s in sets)  # noqa: E731
    plan.run(search, [everything - {n} for n in hook.obligations])
    # three removals, then the subsets of sizes 0 and 1 ({} {a} {b} {c}) before any minimal set
    assert [(p.k, p.n) for p in seen] == [(1, 7), (2, 7), (3, 7)]
    assert seen[0].on == ("b", "c") and seen[0].left is None and seen[1].left is not None
    plan.run(search, [frozenset()])
    plan.run(search, [frozenset({"a"}), frozenset({"b"}), frozenset({"c"})])
    plan.minimal.append(frozenset({"a"}))
    # left: {b, c} was run as a removal; {a, b} and {a, c} contain {a}: nothing
    assert plan.left() == 0


def test_the_progress_line_names_the_search_its_obligations_and_the_time_left() -> None:
    text = hooks.progress_text(hooks.Progress(12, 127, ("stop", "drain"), 3.14, 29.4))
    assert text == "ablating: subset 12 of 127, about 29 s left (3.1 s so far): {stop, drain} on"
    first = hooks.progress_text(hooks.Progress(1, 127, (), 0.0, None))
    assert first == "ablating: subset 1 of 127, 0.0 s so far: no obligation on"


@pytest.mark.parametrize("terminal", [True, False])
def test_progress_is_shown_on_a_terminal_only(terminal: bool) -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=terminal, width=120)
    shown = _Progress(console)
    shown.ablating(hooks.Progress(3, 10, ("stop",), 1.0, 2.0))
    shown.close()
    assert ("subset 3 of 10" in buffer.getvalue()) is terminal
    if not terminal:
        assert buffer.getvalue() == ""


def test_the_command_shows_progress_on_stderr_when_it_is_a_terminal(monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from quiesce_check import cli
    made: list[io.StringIO] = []
    real = cli._console

    def console(**kwargs):  # type: ignore[no-untyped-def]
        if kwargs.get("stderr"):  # stderr as a terminal would be, kept to read back
            made.append(io.StringIO())
            return real(file=made[-1], force_terminal=True, width=200)
        return real(**kwargs)

    monkeypatch.setattr(cli, "_console", console)
    spec = str(HOOKS / "andrew_2014_called.qdl")
    code = cli.main(["hook", spec, "--model", V2, "--param", "NREQS=1", "--backend", "python", "--ablate",
                     "--no-coverage"])
    assert code != 0  # the request in flight: the hook fails (tests/test_hooks.py)
    err = made[0].getvalue()
    assert re.search(r"ablating: subset 1 of 3, \d+\.\d s so far: \{stop_processing\} on", err)
    assert "ablating: subset 3 of 3, about" in err
    assert "ablating: subset" not in capsys.readouterr().out  # never on stdout


def test_a_spec_that_needs_its_obligations_as_constants_is_ablated_subset_by_subset(tmp_path) -> None:
    spec = tmp_path / "hook.qdl"
    spec.write_text(
        'hook stopping_hook: "a hook" at after_suspend binds Blkback;\n'
        'obligation stop: "blkback takes no new request once asked";\n'
        'var steps: 0..(if stop then 1 else 2) = 0;\n'  # a range bound must be constant
        'process QuiesceHook when alive { await after_suspend; stopping := stop; steps := 1; }\n'
        'fair process QuiesceHook;\n')
    hook, select = setup(str(spec), V2, {"NREQS": 1})
    with pytest.raises(ModelError) as e:
        hooks.Switched(str(spec), V2, {"NREQS": 1}, tuple(hook.obligations), select)
    assert [d.code for d in e.value.diagnostics] == ["E023"]
    full = by_hand(str(spec), V2, {"NREQS": 1}, hook, select, frozenset({"stop"}), PYTHON)[2]
    ab = hooks.ablate(str(spec), V2, {"NREQS": 1}, hook, select, PYTHON, full, workers=1)
    off = by_hand(str(spec), V2, {"NREQS": 1}, hook, select, frozenset(), PYTHON)[2]
    assert ab.without["stop"] == off and not off.keeps_all


def test_ctrl_c_during_a_search_ends_the_ablation(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = str(HOOKS / "andrew_2014_called.qdl")
    hook, select = setup(spec, V2, {"NREQS": 1})
    sw = hooks.Switched(spec, V2, {"NREQS": 1}, tuple(hook.obligations), select)
    real = hooks.run_checked

    def interrupted(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = real(*args, **kwargs)
        result.limit = "interrupted"  # as an engine reports the first Ctrl-C, between two steps
        return result

    monkeypatch.setattr(hooks, "run_checked", interrupted)
    with pytest.raises(KeyboardInterrupt):
        sw.outcome(frozenset(), PYTHON)
