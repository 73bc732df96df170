"""Search engines behind one signature: `engine(model, options, reporter) -> Result`.

Engines consume only `compile.model.Model` and never import the language front end.
"""

from __future__ import annotations

from collections.abc import Callable

from quiesce_check.compile.cgen import CompilerUnavailable
from quiesce_check.compile.model import Model
from quiesce_check.compile.pygen import CompiledModel
from quiesce_check.engines.bfs import bfs
from quiesce_check.engines.bmc import bmc
from quiesce_check.engines.checkpoint import Checkpoint
from quiesce_check.engines.dfs import dfs
from quiesce_check.engines.induction import induction
from quiesce_check.engines.native import native_bfs
from quiesce_check.engines.random_walk import random_walks
from quiesce_check.engines.result import Options, Reporter, Result
from quiesce_check.engines.symmetry import Reduced, concretise_result, self_check

Engine = Callable[[Model, Options, Reporter], Result]


class NoCompiler(Exception):
    """`--backend native` was asked for, and no C compiler works on this machine."""


def breadth_first(model: Model, options: Options, reporter: Reporter, resume: Checkpoint | None = None) -> Result:
    """Breadth-first search: in compiled C when a compiler is at hand, else in Python.

    Both give the same verdicts, counts and shortest-counterexample lengths
    (tests hold them to it); `Options.backend` chooses explicitly. `resume`
    goes on from a saved search; either backend resumes either's checkpoint.
    With `Options.symmetry`, the model is first checked against its symmetry
    (`SymmetryBreach` if it does not respect it), the search keeps one state per
    orbit, and every trace is made a real trace of the model.
    """
    sym = options.symmetry
    if sym is not None:
        pairs = self_check(model, sym)
    result = _breadth_first(model, options, reporter, resume)
    if sym is not None:
        result = concretise_result(model, sym, result)
        names = ", ".join(f"{t.name} ({len(t.values)} value{'s' if len(t.values) != 1 else ''})" for t in sym.types)
        result.symmetry = (f"{names}: one state per orbit of {len(sym):,} permutations; the declaration held on "
                           f"{pairs:,} sampled states and permutations")
    return result


def _breadth_first(model: Model, options: Options, reporter: Reporter, resume: Checkpoint | None) -> Result:
    if options.backend != "python" and isinstance(model, CompiledModel):
        try:
            return native_bfs(model, options, reporter, resume)
        except CompilerUnavailable as e:
            if options.backend == "native":
                raise NoCompiler(e.reason) from None
    searched = model if options.symmetry is None else Reduced(model, options.symmetry)
    result = bfs(searched, options, reporter, resume.read_arrays() if resume is not None else None)
    result.resumed = resume is not None
    return result


ENGINES: dict[str, Engine] = {"bfs": breadth_first, "dfs": dfs, "random": random_walks, "bmc": bmc,
                              "induction": induction}
# the engines that solve rather than enumerate: they take --depth, not --max-states or --max-depth
SYMBOLIC = ("bmc", "induction")
