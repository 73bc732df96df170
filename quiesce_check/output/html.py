"""A result as one self-contained HTML page: verdicts, each counterexample as a picture and a table.

Takes a `Result`, the model's `ModelInfo`, the run's settings, and optionally
a vocabulary's explanation and timeline annotation; gives the text of one
page that needs no network and no script: inline CSS, what stopped the search
when a model error or a failed assertion did, an inline SVG timeline
per counterexample (a lane per actor, a mark per step, the vocabulary's spans
and moments, rows of values over time, the step to look at circled with its
explanation, a legend in the words the timeline gives its kinds of mark;
for a lasso, the cycle's steps on a band and an arrow from the last step back
to the state the cycle starts from, or a loop on the last state when the
behaviour stays there for ever), and the trace table, the cycle's rows marked.
A timeline is as wide as what it draws (every label inside it) and scrolls
sideways inside its figure, as a wide trace table does, so the page keeps its
width. `counterexample_section` draws one counterexample for any page that
shows counterexamples of other searches (an ablation's rows).
A vocabulary's words come with its explanation and its timeline; the page
keeps only a colour per kind of mark. Every string from the model is escaped.
Imports `compile.*`, `engines.result`, `lang.types`, `trace.*`,
`output.terminal`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from quiesce_check.compile.model import ModelInfo
from quiesce_check.engines.result import Result, Status, halt_note
from quiesce_check.lang.types import Value
from quiesce_check.output.terminal import cycle_marks, length_text, state_name, where_text
from quiesce_check.trace.steps import rows
from quiesce_check.trace.timeline import Annotate, Explain, Row, Timeline, timeline
from quiesce_check.trace.types import Trace

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #1b1f24; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 6px; }
.sub { color: #57606a; margin: 0 0 14px; font-size: 13px; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border-bottom: 1px solid #d0d7de; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
.holds, .reached { color: #1a7f37; font-weight: 600; } .violated { color: #cf222e; font-weight: 600; }
.vacuous, .incomplete, .unreached, .unchanged { color: #9a6700; font-weight: 600; }
.verdict { display: inline-block; padding: 2px 10px; border-radius: 12px; color: white; font-weight: 600; }
.verdict.ok { background: #1a7f37; } .verdict.bad { background: #cf222e; } .verdict.meh { background: #9a6700; }
.why { background: #fff8c5; border-left: 4px solid #d4a72c; padding: 8px 12px; max-width: 1100px; font-size: 14px; }
.trace td.changes { font-family: ui-monospace, monospace; font-size: 12px; }
.trace tr.hl td { background: #ffebe9; }
.trace tr.cycle td { background: #f0f6ff; } .trace td.cycle { color: #0550ae; white-space: nowrap; }
svg text { font-family: ui-monospace, monospace; }
.figure, .scroll { max-width: 100%; overflow-x: auto; margin: 6px 0; }
.figure svg { display: block; max-width: none; }
.legend span { display: inline-block; margin-right: 14px; font-size: 12px; }
.dot { display: inline-block; width: 10px; height: 10px; border-radius: 5px; margin-right: 4px; vertical-align: -1px; }
"""

_MARK_FILL = {"step": "#8c959f", "early": "#c4b5a0", "send": "#0969da", "write": "#bc4c00", "mark": "#1a7f37",
              "late": "#cf222e", "fails": "#1b1f24", "escape": "#cf222e", "torn": "#8250df"}
_MOMENT_STROKE = {"clean": "#0969da", "sync": "#0969da", "final": "#cf222e", "suspend": "#1b1f24", "stop": "#1b1f24",
                  "resume": "#1a7f37",
                  "destroy": "#57606a", "event": "#8c959f"}


# The width of a character of the timeline's monospace text, as a share of its font size:
# generous, so that what is measured holds what a browser draws.
_CHAR = 0.65


def _text_width(text: str, size: float) -> float:
    return _CHAR * size * len(text)


def _shown_rows(tl: Timeline) -> list[Row]:
    """The rows worth drawing: a group of rows that never changes says nothing, unless a
    highlight points into it."""
    rows_by_label = {r.label: r for r in tl.rows}
    groups = {r.group or r.label for r in tl.rows if len(set(r.values)) > 1}
    groups |= {rows_by_label[h.row].group or h.row for h in tl.highlights if h.row in rows_by_label}
    return [r for r in tl.rows if (r.group or r.label) in groups]


def _moments(tl: Timeline, x: Callable[[int], float], width_step: int, top: int, height: float) -> list[str]:
    """The moments, their labels on staggered lines so that neighbours do not overlap."""
    out = []
    level_end: list[float] = []
    for m in sorted(tl.moments, key=lambda m: m.step):
        stroke = _MOMENT_STROKE.get(m.kind, "#8c959f")
        lx = x(m.step) + width_step / 2
        level = next((i for i, end in enumerate(level_end) if end < lx), len(level_end))
        if level == len(level_end):
            level_end.append(0.0)
        level_end[level] = lx + 2 + _text_width(m.label, 10) + 6
        ly = top - 30 - 12 * (level % 3)
        out.append(f'<g class="moment {escape(m.kind)}"><line x1="{lx:.1f}" y1="{ly + 2}" '
                   f'x2="{lx:.1f}" y2="{height - 6}" stroke="{stroke}" stroke-width="1.5" '
                   f'stroke-dasharray="4 3"/><text x="{lx + 2:.1f}" y="{ly}" font-size="10" '
                   f'fill="{stroke}">{escape(m.label)}</text></g>')
    return out


def _value_rows(tl: Timeline, shown_rows: list[Row], x: Callable[[int], float], left: int, width_step: int,
                rows_top: int, row_h: int) -> list[str]:
    """Rows of values over time, a cell per state; a changed value and a highlighted cell stand out."""
    out = []
    hl_cells = {(h.row, h.step) for h in tl.highlights if h.row}
    for i, row in enumerate(shown_rows):
        y = rows_top + i * row_h
        out.append(f'<g class="row {escape(row.kind)}"><text x="{left - 8}" y="{y + 13}" font-size="11" '
                   f'text-anchor="end" fill="{"#0550ae" if row.kind == "target" else "#1b1f24"}">{escape(row.label)}</text>')
        for k, value in enumerate(row.values):
            changed = k > 0 and value != row.values[k - 1]
            fill = "#ffd8d3" if (row.label, k) in hl_cells else "#fff8c5" if changed else "#f6f8fa"
            out.append(f'<rect class="cell{" changed" if changed else ""}" x="{x(k) - width_step / 2 + 1:.1f}" y="{y + 1}" '
                       f'width="{width_step - 2}" height="{row_h - 3}" fill="{fill}"/>')
            if changed or k == 0:
                out.append(f'<text x="{x(k):.1f}" y="{y + 13}" font-size="9" text-anchor="middle">{escape(value)}</text>')
        out.append("</g>")
    return out


def _loop_back(loop: int, n: int, x: Callable[[int], float], width_step: int, top: int, y: float,
               anchor: str) -> list[str]:
    """A lasso's cycle: a band behind its steps (columns loop + 1 to n) and an arrow under the lanes
    from the last column back to the column of the state it starts from; a behaviour that
    stays in its last state for ever: a loop on that column."""
    color = "#0550ae"
    marker = f"{anchor}-arrow"
    out = [f'<defs><marker id="{marker}" viewBox="0 0 10 10" refX="8" refY="5" markerWidth="7" markerHeight="7" '
           f'orient="auto"><path d="M 0 0 L 10 5 L 0 10 z" fill="{color}"/></marker></defs>']
    if loop == n:
        cx = x(n)
        return out + [f'<g class="loop-back stutter"><path d="M {cx - 5:.1f} {y:.1f} C {cx - 16:.1f} '
                      f'{y + 22:.1f}, {cx + 16:.1f} {y + 22:.1f}, {cx + 5:.1f} {y:.1f}" fill="none" '
                      f'stroke="{color}" stroke-width="1.5" marker-end="url(#{marker})"/><text x="{cx + 14:.1f}" '
                      f'y="{y + 20:.1f}" font-size="10" fill="{color}">stays here for ever</text><title>the '
                      f"behaviour stays in {state_name(n)} for ever</title></g>"]
    x0, x1 = x(loop) + width_step / 2, x(n) + width_step / 2
    band = (f'<g class="cycle"><rect x="{x0:.1f}" y="{top - 8}" width="{x1 - x0:.1f}" height="{y - top + 4:.1f}" '
            f'fill="#f0f6ff"/><text x="{x0 + 3:.1f}" y="{top - 0.5:.1f}" font-size="10" fill="{color}">'
            "cycle, repeated for ever</text></g>")
    back = x(loop)
    arrow = (f'<g class="loop-back"><path d="M {x(n):.1f} {y:.1f} C {x(n):.1f} {y + 26:.1f}, {back:.1f} '
             f'{y + 26:.1f}, {back:.1f} {y + 2:.1f}" fill="none" stroke="{color}" stroke-width="1.5" '
             f'marker-end="url(#{marker})"/><title>after step {n} the behaviour is back in {state_name(loop)} '
             f"and repeats steps {loop + 1} to {n}</title></g>")
    return out + [band, arrow]


def _left(tl: Timeline, shown_rows: list[Row]) -> int:
    """Where the columns start: right of the longest lane or row label (drawn ending at left - 8)."""
    labels = [_text_width(lane, 12) for lane in tl.lanes] + [_text_width(r.label, 11) for r in shown_rows]
    return max(230, int(max(labels, default=0)) + 16)


def _right(tl: Timeline, shown_rows: list[Row], x: Callable[[int], float], width_step: int,
           loop: int | None) -> float:
    """Where the last thing drawn ends: the last column, or a label that runs on past it (a
    moment's, a span's, the cycle's, a value in the last column)."""
    half = width_step / 2
    ends = [x(tl.steps) + half]
    ends += [x(m.step) + half + 2 + _text_width(m.label, 10) for m in tl.moments]
    ends += [x(sp.first) - half + 3 + _text_width(sp.label, 10) for sp in tl.spans]
    ends += [x(tl.steps) + _text_width(r.values[-1], 9) / 2 for r in shown_rows if r.values]
    if loop is not None and loop == tl.steps:
        ends.append(x(tl.steps) + 14 + _text_width("stays here for ever", 10))
    elif loop is not None:
        ends.append(x(loop) + half + 3 + _text_width("cycle, repeated for ever", 10))
    return max(ends)


def _svg(tl: Timeline, anchor: str, loop: int | None = None) -> str:
    """The timeline as an SVG as wide as what it draws: every label inside it (the page scrolls
    it inside its figure)."""
    n = tl.steps
    top, lane_h, row_h = 84, 26, 20
    width_step = max(16, min(34, 1200 // max(1, n + 1)))
    shown_rows = _shown_rows(tl)
    left = _left(tl, shown_rows)

    def x(k: int) -> float:
        """The centre of step k's column (column 0 is the initial state)."""
        return left + width_step / 2 + k * width_step

    lanes_h = lane_h * len(tl.lanes)
    rows_top = top + lanes_h + 24
    height = rows_top + row_h * len(shown_rows) + 20
    width = _right(tl, shown_rows, x, width_step, loop) + 16
    full = height + (34 if loop is not None else 0)  # room under the rows for the arrow back
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" id="{anchor}" class="timeline" width="{width:.0f}" '
           f'height="{full:.0f}" viewBox="0 0 {width:.0f} {full:.0f}" role="img">']
    out.append(f'<rect x="0" y="0" width="{width:.0f}" height="{full:.0f}" fill="white"/>')
    if loop is not None:  # behind everything
        out.extend(_loop_back(loop, n, x, width_step, top, height - 10, anchor))
    # spans behind everything
    for span in tl.spans:
        color = "#fbefff" if span.kind == "torn" else "#ddf4ff"
        y0 = top - 8 if span.kind != "torn" else top - 2
        out.append(f'<g class="span {escape(span.kind)}"><rect x="{x(span.first) - width_step / 2:.1f}" y="{y0}" '
                   f'width="{(span.last - span.first + 1) * width_step:.1f}" height="{height - y0 - 6:.0f}" '
                   f'fill="{color}" opacity="0.8"/>'
                   f'<text x="{x(span.first) - width_step / 2 + 3:.1f}" y="{y0 + 10 if span.kind != "torn" else height - 10}" '
                   f'font-size="10" fill="#0550ae">{escape(span.label)}</text></g>')
    # step axis
    for k in range(0, n + 1):
        if n <= 40 or k % 5 == 0:
            out.append(f'<text x="{x(k):.1f}" y="{top - 14}" font-size="9" text-anchor="middle" fill="#57606a">{k}</text>')
    out.extend(_moments(tl, x, width_step, top, height))
    # lanes and marks
    lane_y = {lane: top + i * lane_h + lane_h / 2 for i, lane in enumerate(tl.lanes)}
    for lane, y in lane_y.items():
        out.append(f'<g class="lane"><text x="{left - 8}" y="{y + 4:.1f}" font-size="12" text-anchor="end">'
                   f'{escape(lane)}</text><line x1="{left - 4}" y1="{y:.1f}" x2="{x(n) + width_step / 2:.1f}" '
                   f'y2="{y:.1f}" stroke="#d0d7de"/></g>')
    for mark in tl.marks:
        y = lane_y.get(mark.lane, top)
        fill = _MARK_FILL.get(mark.kind, "#8c959f")
        out.append(f'<circle class="mark {escape(mark.kind)}" cx="{x(mark.step):.1f}" cy="{y:.1f}" r="5.5" '
                   f'fill="{fill}"><title>step {mark.step}: {escape(mark.label)}</title></circle>')
    out.extend(_value_rows(tl, shown_rows, x, left, width_step, rows_top, row_h))
    # highlights on top
    for h in tl.highlights:
        y = lane_y.get(h.lane, top)
        out.append(f'<g class="highlight {escape(h.kind)}"><circle cx="{x(h.step):.1f}" cy="{y:.1f}" r="10" fill="none" '
                   f'stroke="{_MARK_FILL.get(h.kind, "#cf222e")}" stroke-width="3"/>'
                   f'<title>step {h.step}: {escape(h.text)}</title></g>')
    out.append("</svg>")
    return "\n".join(out)


def _legend(tl: Timeline, loop: int | None = None) -> str:
    kinds = {m.kind for m in tl.marks}
    parts = [f'<span><i class="dot" style="background:{_MARK_FILL.get(k, "#8c959f")}"></i>{escape(t)}</span>'
             for k, t in tl.legend.items() if k in kinds]
    if tl.highlights:
        parts.append('<span><i class="dot" style="background:none;border:2px solid #cf222e"></i>the step to look at</span>')
    if loop is not None and loop < tl.steps:
        parts.append('<span><i class="dot" style="background:#f0f6ff;border:1px solid #0550ae"></i>the cycle: after '
                     f"step {tl.steps} the behaviour is back in {state_name(loop)} and repeats for ever</span>")
    elif loop is not None:
        parts.append('<span><i class="dot" style="background:none;border:2px solid #0550ae"></i>the behaviour '
                     f"stays in {state_name(loop)} for ever</span>")
    return f'<div class="legend">{"".join(parts)}</div>'


def _trace_table(info: ModelInfo, trace: Trace, main_path: str | None, hl_steps: set[int]) -> str:
    cycle = cycle_marks(trace)
    out = ['<table class="trace"><tr><th>#</th>' + ("<th>cycle</th>" if cycle else "")
           + "<th>process</th><th>step</th><th>choices</th><th>at</th><th>changes</th></tr>"]
    for row in rows(info, trace):
        if row.index == 0:
            changes = ", ".join(f"{c.name}={c.after}" for c in row.changes)
        else:
            changes = ", ".join(f"{c.name}: {c.before} \u2192 {c.after}" for c in row.changes)
        if row.failed:
            changes = f"FAILS: {trace.message}"
        classes = " ".join(c for c, on in (("hl", row.index in hl_steps), ("cycle", row.index in cycle)) if on)
        cls = f' class="{classes}"' if classes else ""
        mark = f'<td class="cycle">{escape(cycle.get(row.index, ""))}</td>' if cycle else ""
        out.append(f"<tr{cls}><td>{row.index}</td>{mark}<td>{escape(row.process)}</td><td>{escape(row.text or row.action)}</td>"
                   f"<td>{escape(row.choices)}</td><td>{escape(where_text(row.where, main_path))}</td>"
                   f'<td class="changes">{escape(changes)}</td></tr>')
    out.append("</table>")
    return "\n".join(out)


def counterexample_section(info: ModelInfo, trace: Trace, model_path: str, heading: str, section_id: str,
                           anchor: str, explain: Explain | None = None, annotate: Annotate | None = None) -> str:
    """One counterexample: its heading (escaped here), what broke, the explanation, the timeline
    scrolled inside its figure, the legend and the trace table. `section_id` and `anchor` (the
    timeline's id, its markers' prefix) must be unique on the page."""
    out = [f'<section class="counterexample" id="{escape(section_id)}">', f"<h2>{escape(heading)}</h2>",
           f'<p class="sub">{escape(trace.message)}</p>']
    lines = explain(info, trace) if explain is not None else []
    if lines:
        out.append(f'<p class="why">{escape(" ".join(lines))}</p>')
    tl = timeline(info, trace)
    if annotate is not None:
        tl = annotate(info, trace, tl)
    out.append(f'<div class="figure">{_svg(tl, escape(anchor), trace.loop)}</div>')
    out.append(_legend(tl, trace.loop))
    out.append(f'<div class="scroll">{_trace_table(info, trace, model_path, {h.step for h in tl.highlights})}</div>')
    out.append("</section>")
    return "\n".join(out)


def render_html(info: ModelInfo, result: Result, model_path: str, params: dict[str, Value],
                explain: Explain | None = None, annotate: Annotate | None = None,
                title: str | None = None, extra: Sequence[str] = (), tail: Sequence[str] = ()) -> str:
    """The page. `extra` and `tail` are HTML the caller built (escaped already), shown after the
    verdicts and after the counterexamples."""
    verdict_cls = "ok" if result.exit_code == 0 else "bad" if result.exit_code in (11, 12, 13, 14, 75) else "meh"
    shown = ", ".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in params.items())
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{escape(title or model_path)}: {escape(result.verdict.value)}</title>",
           f"<style>{_CSS}</style></head><body>",
           f"<h1>{escape(title or model_path)}</h1>",
           f'<p class="sub">{escape(model_path)}' + (f" with {escape(shown)}" if shown else "")
           + f" &middot; engine {escape(result.engine)} ({escape(result.backend)}) &middot; "
           f"{result.stats.distinct:,} distinct states"
           + (" (one per orbit of the symmetric types)" if result.symmetry else "")
           + f", depth {result.stats.depth}</p>",
           f'<p><span class="verdict {verdict_cls}" id="verdict">{escape(result.verdict.value)} '
           f"(exit {result.exit_code})</span></p>",
           '<table id="verdicts"><tr><th>kind</th><th>property</th><th>result</th></tr>']
    halted = halt_note(info, result)
    if halted is not None:
        out.insert(-1, f'<p class="why" id="halt">{escape(halted[0].upper() + halted[1:])}</p>')
    for p in result.properties:
        text = p.status.value
        t = result.traces.get(p.name) if p.status is Status.VIOLATED else None
        if t is not None:
            text += f" ({length_text(t)})"
        out.append(f'<tr><td>{escape(p.kind)}</td><td>{escape(p.name)}</td>'
                   f'<td class="{escape(p.status.value)}">{escape(text)}</td></tr>')
    out.append("</table>")
    out.extend(extra)
    traces = [result.trace] if result.trace is not None else []
    traces += sorted((t for t in result.traces.values() if t is not result.trace), key=lambda t: len(t.steps))
    for k, trace in enumerate(traces):
        heading = f"Counterexample {k + 1}: {trace.property} ({length_text(trace)})"
        out.append(counterexample_section(info, trace, model_path, heading, f"cex-{k}", f"timeline-{k}", explain,
                                          annotate))
    if not traces:
        out.append('<p class="sub">No counterexample.</p>')
    out.extend(tail)
    out.append("</body></html>")
    return "\n".join(out) + "\n"
