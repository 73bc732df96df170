"""Shared helpers for the test suite: building models from text and exploring them fully."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from quiesce_check.build import Built, build_file, build_text
from quiesce_check.compile.layout import State
from quiesce_check.compile.model import Model

ROOT = Path(__file__).resolve().parent.parent


def model_files() -> list[Path]:
    """Every model shipped in the repository."""
    return sorted([*ROOT.glob("models/*.qdl"), *ROOT.glob("examples/*.qdl")])


def build(text: str, params: dict | None = None) -> Built:
    return build_text(text, "t.qdl", params)


def state_graph(model: Model, limit: int = 200_000) -> dict[State, frozenset[State]]:
    """The whole reachable graph (successor sets), by plain breadth-first search."""
    init = list(model.initial_states())
    graph: dict[State, frozenset[State]] = {}
    todo = list(init)
    seen = set(init)
    while todo:
        s = todo.pop()
        succ = frozenset(t for _, _, t in model.successors(s))
        graph[s] = succ
        for t in succ:
            if t not in seen:
                seen.add(t)
                todo.append(t)
        assert len(seen) <= limit, "state graph larger than the test expects"
    return graph


def bfs_levels(model: Model, depth: int) -> list[set[State]]:
    """States first reached at each depth 0..depth."""
    levels = [set(model.initial_states())]
    seen = set(levels[0])
    for _ in range(depth):
        nxt = set()
        for s in levels[-1]:
            for _, _, t in model.successors(s):
                if t not in seen:
                    seen.add(t)
                    nxt.add(t)
        levels.append(nxt)
    return levels


@pytest.fixture
def build_model():
    return build


def files(paths: Iterable[Path]) -> list[str]:
    return [str(p) for p in paths]


__all__ = ["ROOT", "build", "build_file", "model_files", "state_graph", "bfs_levels"]
