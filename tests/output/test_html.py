"""--html: one self-contained page with the verdicts, a timeline and the trace of a counterexample."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from quiesce_check.cli import main
from tests.conftest import ROOT


class _Page(HTMLParser):
    """Every element with its attributes, and the text inside each element kind."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.stack: list[str] = []
        self.text: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.elements.append((tag, a))
        if tag not in ("circle", "rect", "line", "meta"):
            self.stack.append(f"{tag}.{a.get('class', '')}")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        while self.stack and not self.stack.pop().startswith(tag + "."):
            pass

    def handle_data(self, data: str) -> None:
        for where in self.stack:
            self.text.setdefault(where, []).append(data)

    def with_class(self, tag: str, cls: str) -> list[dict[str, str]]:
        return [a for t, a in self.elements if t == tag and cls in a.get("class", "").split()]


def page_of(tmp_path: Path, *argv: str) -> tuple[int, str, _Page]:
    out = tmp_path / "page.html"
    code = main(["check", *argv, "--no-coverage", "--html", str(out)])
    text = out.read_text()
    p = _Page()
    p.feed(text)
    return code, text, p


def test_the_page_of_the_persistent_ring_failure_shows_the_escaping_write(tmp_path: Path) -> None:
    code, text, page = page_of(tmp_path, str(ROOT / "models" / "s5_persistent_ring_write_after_last_send.qdl"))
    assert code == 12
    # self-contained: no script, nothing fetched
    assert "<script" not in text and "http://" not in text.replace("http://www.w3.org/2000/svg", "")
    assert [a["id"] for t, a in page.elements if t == "table" and a.get("id")] == ["verdicts"]
    assert "violated (16 steps)" in " ".join(page.text.get("td.violated", []))
    # the timeline: a lane per actor, the passes, the bitmap reads, suspend, pages over time
    (svg,) = page.with_class("svg", "timeline")
    lanes = page.text.get("g.lane", [])
    assert lanes == ["Blkfront", "Toolstack", "Blkback"]
    assert {"CLEAN", "final CLEAN", "suspend", "target resumes", "source destroyed"} <= set(page.text["g.moment clean"]
        + page.text["g.moment final"] + page.text["g.moment suspend"] + page.text["g.moment resume"]
        + page.text["g.moment destroy"])
    assert "pass 0" in page.text["g.span pass"]
    assert page.text["g.row source"][0] == "page 0 (ring) source" and page.text["g.row target"][0] == "page 0 (ring) target"
    # the escaping write is circled, at the step the explanation names, and its table row is marked
    (hl,) = page.with_class("g", "escape")
    titles = page.text["g.highlight escape"]
    assert titles[0].startswith("step 12: Word 1 of page 0 (the ring's rsp_prod) was written by Blkback")
    assert len(page.with_class("tr", "hl")) == 1
    assert "Why" not in text and "was written by Blkback through grant mapping 0 at step 12" in " ".join(page.text["p.why"])
    # a mark per step, the step's statement in its tooltip
    assert len(page.with_class("circle", "mark")) == 16


def test_a_torn_send_is_drawn_as_a_span_with_both_writes(tmp_path: Path) -> None:
    _, _, page = page_of(tmp_path, str(ROOT / "models" / "s6_torn_send_during_backend_write.qdl"),
                         "--property", "no_torn_page")
    assert page.text["g.span torn"] == ["torn send of page 0"]
    assert len(page.with_class("g", "torn")) >= 2  # the span, and the writes that tore it


def test_without_a_vocabulary_the_page_still_has_lanes_and_steps(tmp_path: Path) -> None:
    code, _, page = page_of(tmp_path, str(ROOT / "models" / "precopy_backend.qdl"), "--param", "PERSISTENT=true")
    assert code == 14
    lanes = page.text["g.lane"]
    assert {"Backend", "Migration"} <= set(lanes) <= {"Guest", "Frontend", "Backend", "Migration"}
    assert len(lanes) == len(set(lanes))
    assert len(page.with_class("circle", "fails")) == 1  # the final step, whose assertion fails
    assert not page.with_class("g", "moment") and not page.with_class("g", "row")  # no vocabulary, no domain parts


def test_model_text_is_escaped(tmp_path: Path) -> None:
    model = tmp_path / "m.qdl"
    # a block's opening comment is part of its step's text in the trace table
    model.write_text("var x: 0..2 = 0;\nprocess P {\n    atomic {   // <script>alert(1)</script>\n        x := 1;\n"
                     "    }\n    x := 2;\n}\ninvariant small: x < 2;\n")
    _, text, _ = page_of(tmp_path, str(model))
    assert "<script>" not in text and "&lt;script&gt;" in text


def _path_ends(d: str) -> tuple[float, float]:
    """The x where an SVG path starts and the x where it ends."""
    numbers = [float(t) for t in d.replace(",", " ").split() if t not in ("M", "C")]
    return numbers[0], numbers[-2]


def test_a_lasso_has_a_loop_back_arrow_from_its_last_step_to_the_cycle_start(tmp_path: Path) -> None:
    code, _, page = page_of(tmp_path, str(ROOT / "tests" / "trace" / "models" / "lasso_spin.qdl"))
    assert code == 13
    assert page.with_class("span", "verdict") and "bad" in page.with_class("span", "verdict")[0]["class"]
    # A goes round x = 0, 1, 2 from the initial state: no step before the cycle, three in it
    assert "violated (0 steps, then a cycle of 3 steps)" in " ".join(page.text["td.violated"])
    marks = [float(a["cx"]) for a in page.with_class("circle", "mark")]
    assert len(marks) == 3
    column = marks[1] - marks[0]
    (band,) = page.with_class("g", "cycle")
    assert page.text["g.cycle"] == ["cycle, repeated for ever"]
    paths = [a for t, a in page.elements if t == "path" and a.get("marker-end")]
    (arrow,) = paths
    start, end = _path_ends(arrow["d"])
    assert start == marks[-1]                       # from the last step's column
    assert end == marks[0] - column                 # back to column 0, the initial state
    marker = arrow["marker-end"][len("url(#"):-1]
    assert [a for t, a in page.elements if t == "marker" and a.get("id") == marker]
    # the table marks the cycle: every row is in it (it starts at the initial state)
    assert len(page.with_class("tr", "cycle")) == 4
    assert page.text["td.cycle"] == ["┌ starts", "│", "│", "└ back to 0"]


def test_a_lasso_that_stutters_loops_on_its_last_state(tmp_path: Path) -> None:
    model = tmp_path / "m.qdl"
    model.write_text("var x: 0..1 = 0;\naction up { x := 1; }\nliveness back: always eventually x == 0;\n")
    code, _, page = page_of(tmp_path, str(model))
    # nothing is fair: after `up` (x = 1) the behaviour may stay there for ever
    assert code == 13
    assert "violated (1 step, then stuttering)" in " ".join(page.text["td.violated"])
    (loop,) = page.with_class("g", "stutter")
    (mark,) = page.with_class("circle", "mark")
    (path,) = [a for t, a in page.elements if t == "path" and a.get("marker-end")]
    start, end = _path_ends(path["d"])
    assert start < float(mark["cx"]) < end          # around the last step's column
    assert page.text["td.cycle"] == ["↺ for ever"]  # on the last row; the first has none
    assert not page.with_class("g", "cycle")


def _text_extent(a: dict[str, str], text: str) -> tuple[float, float]:
    """Where an SVG text starts and ends, at the widest a monospace character is drawn (0.65 em)."""
    width = 0.65 * float(a.get("font-size", "12")) * len(text)
    x = float(a["x"])
    anchor = a.get("text-anchor", "start")
    start = x - width if anchor == "end" else x - width / 2 if anchor == "middle" else x
    return start, start + width


class _Texts(_Page):
    """Each SVG text with its attributes and its characters, for the figure it is drawn in."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[tuple[dict[str, str], str]] = []
        self._open: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        super().handle_starttag(tag, attrs)
        if tag == "text":
            self._open = {k: v or "" for k, v in attrs}
            self.texts.append((self._open, ""))

    def handle_data(self, data: str) -> None:
        super().handle_data(data)
        if self._open is not None:
            self.texts[-1] = (self._open, self.texts[-1][1] + data)

    def handle_endtag(self, tag: str) -> None:
        super().handle_endtag(tag)
        if tag == "text":
            self._open = None


def test_a_wide_timeline_scrolls_inside_its_figure_and_nothing_is_clipped(tmp_path: Path) -> None:
    # a lane name longer than the usual margin, and 150 steps: wider than any page
    name = "AProcessWithANameLongerThanTheMarginForLaneNames"
    model = tmp_path / "m.qdl"
    model.write_text(f"var x: 0..200 = 0;\nprocess {name} {{\n    while x < 150 {{ x := x + 1; }}\n}}\n"
                     "invariant small: x < 150;\n")
    out = tmp_path / "page.html"
    assert main(["check", str(model), "--no-coverage", "--html", str(out)]) == 12
    text = out.read_text()
    page = _Texts()
    page.feed(text)
    # the figure scrolls sideways on its own: the page keeps its width, the timeline its size
    css = text.split("<style>", 1)[1].split("</style>", 1)[0]
    rule = css.split(".figure", 1)[1].split("}", 1)[0]
    assert "overflow-x: auto" in rule and "max-width: 100%" in rule
    (svg,) = page.with_class("svg", "timeline")
    assert text.index('<div class="figure"><svg') < text.index('class="timeline"')
    width = float(svg["width"])
    assert width > 2000 and svg["viewbox"] == f"0 0 {svg['width']} {svg['height']}"  # (attribute names in lower case)
    assert name in [t for _, t in page.texts]
    assert_within(page)


def assert_within(page: _Texts) -> None:
    """Every label inside its drawing: none starts left of it or ends right of it."""
    (svg,) = page.with_class("svg", "timeline")
    assert page.texts
    for a, t in page.texts:
        start, end = _text_extent(a, t)
        assert start >= 0 and end <= float(svg["width"]), (t, start, end, svg["width"])


def test_the_labels_of_a_vocabularys_timeline_are_inside_it(tmp_path: Path) -> None:
    # moments, spans and values run on to the right of their columns: the last ones too
    out = tmp_path / "page.html"
    main(["check", str(ROOT / "models" / "s5_persistent_ring_write_after_last_send.qdl"), "--no-coverage",
          "--html", str(out)])
    page = _Texts()
    page.feed(out.read_text())
    assert page.with_class("g", "moment") and page.with_class("g", "span")
    assert_within(page)
