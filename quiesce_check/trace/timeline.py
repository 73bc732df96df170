"""A counterexample laid out in time, for pictures: lanes, marks, spans, moments, rows.

Takes a `Trace` and the model's `ModelInfo`; gives a `Timeline`: a lane per
process in the order they first act, a mark per step in its lane, and no
domain knowledge. A vocabulary adds what it knows (the passes as spans, the
bitmap reads as moments, pages over time as rows, the step to look at as a
highlight) through an `Annotate` function, and names the kinds of mark it
draws in the timeline's `legend`. Renderers draw any timeline. Also
`Explain`, the type of a vocabulary's explanation of a counterexample,
which every renderer takes. Imports `compile.model`, `trace.types`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from quiesce_check.compile.model import ModelInfo
from quiesce_check.trace.types import Trace


@dataclass(frozen=True)
class Mark:
    """Step `step` (1-based), drawn in `lane`."""

    step: int
    lane: str
    label: str
    kind: str = "step"   # step | early | write | send | mark | late | fails


@dataclass(frozen=True)
class Span:
    """Steps `first`..`last` belong together (a pass of the toolstack, a page's send)."""

    first: int
    last: int
    label: str
    kind: str = "pass"


@dataclass(frozen=True)
class Moment:
    """Something that happens at one step to every lane (a bitmap read, the suspend)."""

    step: int
    label: str
    kind: str = "event"  # event | clean | sync | suspend | stop | final | resume | destroy


@dataclass(frozen=True)
class Row:
    """A value over the trace's states (`values[k]` after step k), e.g. a page's words."""

    label: str
    values: tuple[str, ...]
    kind: str = "source"  # source | target | other
    group: str = ""       # rows shown or left out together (a page's source and target)


@dataclass(frozen=True)
class Highlight:
    """The step the reader should look at, and why."""

    step: int
    lane: str
    text: str
    kind: str = "escape"  # escape | torn | late | other
    row: str | None = None  # the row it changed, if any


@dataclass
class Timeline:
    steps: int
    lanes: list[str]
    marks: list[Mark]
    spans: list[Span] = field(default_factory=list)
    moments: list[Moment] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    highlights: list[Highlight] = field(default_factory=list)
    # mark kind -> what a mark of that kind means, in the order a legend lists them; whoever
    # draws marks of a kind names it, so a renderer needs no vocabulary's words
    legend: dict[str, str] = field(default_factory=dict)


# What a vocabulary knows of a trace, added to its timeline.
Annotate = Callable[[ModelInfo, Trace, Timeline], Timeline]

# Domain words for a counterexample: sentences that say why it breaks the property.
Explain = Callable[[ModelInfo, Trace], list[str]]

# The kinds of mark `timeline` draws that a legend explains (a failing step is not listed).
_LEGEND = {"step": "a step"}


def timeline(info: ModelInfo, trace: Trace) -> Timeline:
    """Lanes and a mark per step; a failing last step is marked as such."""
    lanes: list[str] = []
    marks = []
    for k, step in enumerate(trace.steps, 1):
        a = info.actions[step.action] if 0 <= step.action < len(info.actions) else None
        lane = (a.process or a.name) if a else "?"
        if lane not in lanes:
            lanes.append(lane)
        failed = k >= len(trace.states)
        marks.append(Mark(k, lane, a.text if a else "?", "fails" if failed else "step"))
    return Timeline(len(trace.steps), lanes, marks, legend=dict(_LEGEND))
