"""The engine contract: what an engine is, what it reads, what it checks.

Takes nothing of the front end; gives `Engine` (the one call every engine
answers: a model, its options and a reporter in, a `Result` out), `EngineSpec`
(an engine's name, entry point, the `Options` fields it reads, the property
kinds it evaluates, and whether it reduces by symmetry, saves checkpoints,
goes on past a violation with `--continue`), `requested` (the property kinds
a model asks a run to check) and `Refused` (an engine asked for a property
kind or an option it does not take). The registry of specs is
`engines.ENGINES`; `cli` and `regress` read it rather than naming engines.
Imports `compile.model`, `engines.result`.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from quiesce_check.compile.model import Model, ModelInfo
from quiesce_check.engines.result import CheckKind, Options, Reporter, Result

Engine = Callable[[Model, Options, Reporter], Result]


class Family(enum.Enum):
    EXPLICIT = "explicit"   # enumerates states: bounded by --max-states, --max-depth, --memory-limit
    SYMBOLIC = "symbolic"   # solves for behaviours with Z3: bounded by --depth


# How each property kind is named when an engine refuses it.
KIND_WORDS: dict[CheckKind, str] = {
    "invariant": "invariants", "lemma": "lemmas", "final": "final-state properties",
    "reachable": "reachability goals", "assertion": "assertions", "deadlock": "deadlock",
    "liveness": "liveness properties", "action": "step properties (`always step`)",
}

# Every property kind a model can state.
ALL_KINDS: frozenset[CheckKind] = frozenset(KIND_WORDS)
# What every engine checks: the properties of states and of finite runs.
SAFETY_KINDS: frozenset[CheckKind] = ALL_KINDS - {"liveness", "action"}

# The `Options` fields every engine reads.
COMMON_OPTIONS = frozenset({"deadline", "check_deadlock"})


class Refused(Exception):
    """An engine was asked to check a property kind it does not evaluate, or given an option
    it does not read: it refuses rather than report "holds" having skipped it."""


@dataclass(frozen=True)
class EngineSpec:
    name: str
    run: Engine
    family: Family
    summary: str                  # one line for `--help`
    options: frozenset[str]       # the `Options` fields it reads, beyond COMMON_OPTIONS
    checks: frozenset[CheckKind] = SAFETY_KINDS
    symmetry: bool = False        # keeps one state per orbit of the symmetric types
    checkpoints: bool = False     # saves its search periodically; `resume` goes on with it
    keep_going: bool = False      # with --continue, every property's shortest counterexample
    needs_program: bool = False   # reads the model's IR program (`Model.program` must not be None)

    @property
    def symbolic(self) -> bool:
        return self.family is Family.SYMBOLIC

    def takes(self, field: str) -> bool:
        return field in self.options or field in COMMON_OPTIONS

    def unchecked(self, kinds: Sequence[CheckKind]) -> list[CheckKind]:
        """Of the property kinds a run asks for, those this engine does not evaluate."""
        return [k for k in kinds if k not in self.checks]

    def narrow(self, options: Options) -> Options:
        """`options` with every field this engine does not read back at its default: a set of
        options shared by runs of several engines (a regression manifest, the CLI's flags that
        only some engines read), given to this one."""
        defaults = Options()
        unread = {f.name: getattr(defaults, f.name) for f in dataclasses.fields(Options) if not self.takes(f.name)}
        return dataclasses.replace(options, **unread)

    def refuse(self, model: Model, options: Options) -> None:
        """`Refused` unless this engine can run `model` with `options` as asked: every property
        kind the model states is one it evaluates, every option set is one it reads."""
        missing = self.unchecked(requested(model.info, options.check_deadlock))
        if missing:
            words = ", ".join(KIND_WORDS[k] for k in missing)
            raise Refused(f"--engine {self.name} does not check {words}; the model states them")
        defaults = Options()
        for f in dataclasses.fields(Options):
            if not self.takes(f.name) and getattr(options, f.name) != getattr(defaults, f.name):
                raise Refused(f"--engine {self.name} does not take the option {f.name}")
        temporal = [k for k in requested(model.info, options.check_deadlock) if k in ("liveness", "action")]
        if temporal and options.symmetry is not None:
            raise Refused(f"--engine {self.name} does not reduce by symmetry a model with "
                          f"{' or '.join(KIND_WORDS[k] for k in temporal)}: a fair cycle or a "
                          "step's mover need not map onto its orbit's representative; check it "
                          "with --no-symmetry")
        if "action" in temporal and options.checkpoint is not None:
            raise Refused("checkpoints do not keep the counterexamples of step properties (`always step`): "
                          "check this model without --checkpoint")
        if self.needs_program and model.program is None:
            raise Refused(f"--engine {self.name} needs a model compiled from its program")


def requested(info: ModelInfo, check_deadlock: bool) -> list[CheckKind]:
    """The property kinds a run of a model with this `ModelInfo` must check, in a fixed order."""
    present: set[CheckKind] = {"lemma" if p.kind == "lemma" else "invariant" for p in info.invariants}
    if info.finals:
        present.add("final")
    if any(g.kind != "premise" for g in info.reachables):
        present.add("reachable")
    if info.asserts:
        present.add("assertion")
    if info.liveness:
        present.add("liveness")
    if info.step_properties:
        present.add("action")
    if check_deadlock:
        present.add("deadlock")
    return [k for k in KIND_WORDS if k in present]


def run_checked(spec: EngineSpec, model: Model, options: Options, reporter: Reporter) -> Result:
    """Run an engine after its spec has accepted the model and options (`Refused` if not)."""
    spec.refuse(model, options)
    return spec.run(model, options, reporter)


def names(specs: Sequence[EngineSpec], joiner: str = ", ") -> str:
    """`bfs, dfs, random`, or with joiner " or ": `bfs or bmc` (the last two joined by it)."""
    words = [s.name for s in specs]
    if joiner == ", " or len(words) < 2:
        return ", ".join(words)
    return ", ".join(words[:-1]) + joiner + words[-1]
