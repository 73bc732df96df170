"""Search engines behind one signature: `engine(model, options, reporter) -> Result`.

Engines consume only `compile.model.Model` and never import the language front end.
"""

from __future__ import annotations

from collections.abc import Callable

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

Engine = Callable[[Model, Options, Reporter], Result]


class NoCompiler(Exception):
    """`--backend native` was asked for, and no C compiler works on this machine."""


def breadth_first(model: Model, options: Options, reporter: Reporter, resume: Checkpoint | None = None) -> Result:
    """Breadth-first search: in compiled C when a compiler is at hand, else in Python.

    Both give the same verdicts, counts and shortest-counterexample lengths
    (tests hold them to it); `Options.backend` chooses explicitly. `resume`
    goes on from a saved search; either backend resumes either's checkpoint.
    """
    if options.backend != "python" and isinstance(model, CompiledModel):
        result = native_bfs(model, options, reporter, resume)
        if result is not None:
            return result
        if options.backend == "native":
            raise NoCompiler("no working C compiler (cc, gcc or clang; or set CC)")
    result = bfs(model, options, reporter, resume.read_arrays() if resume is not None else None)
    result.resumed = resume is not None
    return result


ENGINES: dict[str, Engine] = {"bfs": breadth_first, "dfs": dfs, "random": random_walks, "bmc": bmc,
                              "induction": induction}
# the engines that solve rather than enumerate: they take --depth, not --max-states or --max-depth
SYMBOLIC = ("bmc", "induction")
