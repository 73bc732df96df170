"""Search engines behind one signature: `engine(model, options, reporter) -> Result`.

Engines consume only `compile.model.Model` and never import the language front end.
"""

from __future__ import annotations

from collections.abc import Callable

from quiesce_check.compile.model import Model
from quiesce_check.engines.bfs import bfs
from quiesce_check.engines.dfs import dfs
from quiesce_check.engines.random_walk import random_walks
from quiesce_check.engines.result import Options, Reporter, Result

Engine = Callable[[Model, Options, Reporter], Result]

ENGINES: dict[str, Engine] = {"bfs": bfs, "dfs": dfs, "random": random_walks}
