"""The table of a counterexample's steps, fitted to the console's width without cutting a value.

Takes the cells of each row (`StepCells`: the step number, the cycle mark, the process, the
statement, the choices, where it is and what it changed) and the console's width; gives a
rich renderable. Each change (`mem[0][3]: 0→1`) is kept whole: the changes column wraps
between changes (and, for a change wider than the column, after the variable's name), never
inside a value. The columns that name things (the step number, the process, the file and line)
are never cut either. When even the narrowest such table does not fit, each step is stacked: a
line saying what ran, then its changes below it, across the whole width.
Imports nothing of the project (the cells arrive as text).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType
from rich.measure import Measurement
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

_SEP = ", "
_STEP_MIN = 12   # the statement is source text: narrower than this it is hard to read
_CHANGES_LEAST = 36  # a changes column narrower than this holds one change a line: stacked reads better


@dataclass(frozen=True)
class Unit:
    """One change as shown: `text`, which may break only after `head` (the name and its colon)."""

    text: str
    head: int = 0  # characters of `text` before the allowed break; 0: no break

    def narrowest(self) -> int:
        if not self.head:
            return cell_len(self.text)
        return max(cell_len(self.text[:self.head].rstrip()), cell_len(self.text[self.head:]))


class Changes:
    """What a step changed, packed into lines of whole changes at whatever width it is given."""

    def __init__(self, units: Sequence[Unit], style: str = "") -> None:
        self.units = tuple(units)
        self.style = style

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(self.narrowest(), max(self.widest(), 1))

    def narrowest(self) -> int:
        return max((u.narrowest() for u in self.units), default=0)

    def widest(self) -> int:
        return cell_len(_SEP.join(u.text for u in self.units))

    def lines(self, width: int) -> list[str]:
        """The changes, separated by commas, in lines of at most `width` cells: a line breaks
        between changes; a change wider than `width` breaks after its name."""
        out: list[str] = []
        line = ""
        for k, u in enumerate(self.units):
            text = u.text + (_SEP.rstrip() if k < len(self.units) - 1 else "")
            joined = f"{line} {text}" if line else text
            if cell_len(joined) <= width:
                line = joined
                continue
            if line:
                out.append(line)
            if cell_len(text) > width and u.head:
                out.append(text[:u.head].rstrip())
                text = text[u.head:]
            line = text
        if line:
            out.append(line)
        return out

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[RenderableType]:
        # a change wider than the whole column is folded rather than cut: every character stays
        yield Text("\n".join(self.lines(options.max_width)), style=self.style, overflow="fold")


@dataclass(frozen=True)
class StepCells:
    index: str
    mark: str       # the cycle mark of a lasso's row ("" if none)
    process: str
    step: str
    choices: str
    at: str
    changes: Changes | Text


def _width(cell: Changes | Text | str, narrowest: bool = False) -> int:
    if isinstance(cell, Changes):
        return cell.narrowest() if narrowest else cell.widest()
    text = cell.plain if isinstance(cell, Text) else cell
    if narrowest:
        return max((cell_len(w) for w in text.replace(",", " ").split()), default=0)
    return max((cell_len(line) for line in text.splitlines()), default=0)


def widths(total: int, cells: Sequence[StepCells], cycle: bool) -> dict[str, int] | None:
    """The width of each column of the table at `total` cells wide, or None when it cannot
    fit without cutting a name or a value."""
    heads = {"index": "#", "mark": "cycle", "process": "process", "step": "step", "choices": "choices",
             "at": "at", "changes": "changes"}
    names = [n for n in heads if cycle or n != "mark"]
    natural = {n: max([cell_len(heads[n])] + [_width(getattr(c, n)) for c in cells]) for n in names}
    least = {n: max([cell_len(heads[n])] + [_width(getattr(c, n), True) for c in cells]) for n in names}
    least["step"] = min(natural["step"], _STEP_MIN)  # a statement may wrap anywhere: it is no value
    least["changes"] = max(least["changes"], min(natural["changes"], _CHANGES_LEAST))
    # each column is padded by a space on either side, and a rule stands between two columns
    room = total - 3 * len(names) + 1 - sum(natural[n] for n in names if n not in ("step", "choices", "changes"))
    out = dict(natural)
    if natural["step"] + natural["choices"] + natural["changes"] <= room:
        return out
    for choices in (natural["choices"], least["choices"]):
        rest = room - choices
        if rest < least["step"] + least["changes"]:
            continue
        step, changes = _share(rest, (natural["step"], least["step"]), (natural["changes"], least["changes"]))
        out.update(choices=choices, step=step, changes=changes)
        return out
    return None


def _share(room: int, a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    """Two columns' widths, each (natural, least), narrowed to `room` (at least the sum of the
    least) the wider first, as rich narrows columns."""
    (wa, la), (wb, lb) = a, b
    while wa + wb > room:
        if (wa >= wb or wb <= lb) and wa > la:
            wa -= 1
        elif wb > lb:
            wb -= 1
        else:
            break
    return wa, wb


def trace_table(total: int, cells: Sequence[StepCells], cycle: bool) -> RenderableType:
    """The steps as a table `total` cells wide at most, or stacked when no table fits."""
    fitted = widths(total, cells, cycle)
    if fitted is None:
        return stacked(cells, cycle)
    table = Table(show_edge=False, show_lines=False)
    table.add_column("#", justify="right", no_wrap=True, width=fitted["index"])
    if cycle:
        table.add_column("cycle", no_wrap=True, width=fitted["mark"])
    table.add_column("process", no_wrap=True, width=fitted["process"])
    table.add_column("step", overflow="fold", width=fitted["step"])
    table.add_column("choices", overflow="fold", width=fitted["choices"])
    table.add_column("at", no_wrap=True, width=fitted["at"])
    table.add_column("changes", overflow="fold", width=fitted["changes"])
    for c in cells:
        marked = [Text(c.mark, style="bold")] if cycle else []
        table.add_row(Text(c.index), *marked, Text(c.process), Text(c.step), Text(c.choices), Text(c.at),
                      c.changes)
    return table


def stacked(cells: Sequence[StepCells], cycle: bool) -> RenderableType:
    """Each step as a line saying what ran (process, statement, choices, where), with its
    changes below it: for a console too narrow for the table."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(justify="right", no_wrap=True)
    if cycle:
        grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for c in cells:
        head = Text(overflow="fold")
        for part, style in ((c.process, "bold"), (c.step, ""), (c.choices and f"[{c.choices}]", ""),
                            (c.at and f"({c.at})", "dim")):
            if part:
                head.append(("  " if head.plain else "") + part, style=style)
        marked = [Text(c.mark, style="bold")] if cycle else []
        below = bool(c.changes.units) if isinstance(c.changes, Changes) else bool(c.changes.plain)
        grid.add_row(Text(c.index), *marked, Group(head, Padding(c.changes, (0, 0, 0, 2))) if below else head)
    return grid
