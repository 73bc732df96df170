"""Shared helpers for the test suite: building models from text and exploring them fully."""

from __future__ import annotations

from pathlib import Path

from quiesce_check.build import Built, build_file, build_text
from quiesce_check.compile.layout import State
from quiesce_check.compile.model import Model

ROOT = Path(__file__).resolve().parent.parent


def model_files() -> list[Path]:
    """Every model shipped in the repository (the Xen ones, the vhost ones, the examples)."""
    return sorted([*ROOT.glob("models/*.qdl"), *ROOT.glob("models/vhost/*.qdl"), *ROOT.glob("examples/*.qdl")])


def build(text: str, params: dict | None = None) -> Built:
    return build_text(text, "t.qdl", params)


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


__all__ = ["ROOT", "build", "build_file", "model_files", "bfs_levels"]
