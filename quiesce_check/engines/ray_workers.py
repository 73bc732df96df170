"""The workers of a parallel search as Ray actors, one partition each.

Takes the cluster's address, the model's program and symmetry (they travel to each actor,
which compiles the program's C on its node, through the compile cache), and the search's
settings; gives the interface `engines.parallel.Threads` gives (`each`, `one`, `seed`,
`round`, `close`), with each batch of successors a separate object in Ray's object store,
handed by reference from the worker that made it to the one that owns its states. A worker
or node that dies makes a call raise `WorkerLost`. Imports `compile.*`, `engines.*`; Ray
only through `engines.cluster`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from quiesce_check.compile import cgen
from quiesce_check.compile.ir import Program
from quiesce_check.compile.layout import State
from quiesce_check.compile.symmetry import Symmetry
from quiesce_check.engines.cluster import connect
from quiesce_check.engines.parallel import ROUND_CLUSTER, Partition, WorkerLost

# seconds the cluster has to place every worker
PLACE_SECONDS = 60.0


class _Worker:
    """A partition in a Ray actor: the calls the engine makes, each result a plain value."""

    def __init__(self, program: Program, symmetry: Symmetry | None, me: int, nparts: int, check_deadlock: bool,
                 memory: int | None) -> None:
        self.part = Partition(program, symmetry, me, nparts, check_deadlock, memory)

    def ready(self) -> bool:
        return True

    def seed(self, states: Sequence[State]) -> tuple[Any, ...]:
        code, batches = self.part.seed(states)
        return (code, *batches) if batches else (code, *[b""] * self.part.nparts)

    def expand(self, budget: int) -> tuple[Any, ...]:
        code, batches = self.part.expand(budget)
        return (code, *batches)

    def absorb(self, *batches: bytes) -> int:
        return self.part.absorb(*batches)

    def absorb_counted(self, *batches: bytes) -> tuple[int, list[int]]:
        return self.part.absorb_counted(*batches)

    def call(self, method: str, *args: Any) -> Any:
        return getattr(self.part, method)(*args)

    def pid(self) -> int:
        import os
        return os.getpid()


class RayWorkers:
    """`n` Ray actors, one partition each, spread by Ray over the cluster's nodes."""

    def __init__(self, address: str, program: Program, symmetry: Symmetry | None, n: int, check_deadlock: bool,
                 memory: int | None) -> None:
        self.ray = connect(address)
        self.args = (address, program, symmetry, n, check_deadlock, memory)
        self.n = n
        self.budget = ROUND_CLUSTER
        # spread over the nodes: each brings its memory and its cores
        remote = self.ray.remote(num_cpus=1, max_restarts=0, scheduling_strategy="SPREAD")(_Worker)
        # the program travels once through the object store, not once per actor
        prog = self.ray.put(program)
        self.actors = [remote.remote(prog, symmetry, k, n, check_deadlock, memory) for k in range(n)]
        ready = [a.ready.remote() for a in self.actors]
        # an actor Ray cannot place (no node has a CPU free) would wait for ever
        placed, _ = self.ray.wait(ready, num_returns=n, timeout=PLACE_SECONDS)
        if len(placed) < n:
            self.close()
            raise WorkerLost(f"the cluster placed {len(placed)} of {n} workers within {PLACE_SECONDS:g} s "
                             "(each takes one CPU): ask for fewer with --workers, or add nodes")
        self.get(ready)

    def again(self) -> RayWorkers:
        """New actors in place of these (a node may have gone: Ray places them where it can)."""
        self.close()
        return RayWorkers(*self.args)

    def settle(self) -> bool:
        return False

    def load(self, shares: Sequence[dict[str, Any]]) -> list[int]:
        return list(self.get([a.call.remote("load", shares[k]) for k, a in enumerate(self.actors)]))

    def get(self, refs: Any) -> Any:
        """`ray.get`, with a lost actor, node or batch (a node that died held it) as `WorkerLost`;
        an error of the search itself in a worker is raised as it is."""
        errors = self.ray.exceptions
        try:
            return self.ray.get(refs)
        except errors.RayTaskError as e:
            cause = getattr(e, "cause", None)
            if isinstance(cause, cgen.CompilerUnavailable):
                raise cause from None
            if isinstance(cause, errors.RayError):
                raise WorkerLost(f"a worker's input was lost: {str(cause).splitlines()[0]}") from None
            raise
        except errors.RayError as e:   # the actor died, its node died, or an object on it is lost
            raise WorkerLost(f"a worker died: {str(e).splitlines()[0]}") from None

    def each(self, method: str, *args: Any) -> list[Any]:
        return list(self.get([a.call.remote(method, *args) for a in self.actors]))

    def one(self, k: int, method: str, *args: Any) -> Any:
        return self.get(self.actors[k].call.remote(method, *args))

    def seed(self, states: Sequence[State]) -> list[int]:
        refs = self.actors[0].seed.options(num_returns=self.n + 1).remote(list(states))
        code = self.get(refs[0])
        if code != cgen.DONE:
            return [code]
        return list(self.get([self.actors[k].absorb.remote(refs[1 + k]) for k in range(self.n)]))

    def round(self, budget: int) -> tuple[list[int], list[int], list[list[int]]]:
        refs = [a.expand.options(num_returns=self.n + 1).remote(budget) for a in self.actors]
        absorbed = [self.actors[k].absorb_counted.remote(*[refs[i][1 + k] for i in range(self.n)])
                    for k in range(self.n)]
        codes, taken = list(self.get([r[0] for r in refs])), list(self.get(absorbed))
        return codes, [code for code, _ in taken], [stats for _, stats in taken]

    def pids(self) -> list[int]:
        return list(self.get([a.pid.remote() for a in self.actors]))

    def close(self) -> None:
        for a in self.actors:
            with contextlib.suppress(Exception):  # an actor already dead is already gone
                self.ray.kill(a)
