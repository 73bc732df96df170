"""`hook --ablate`'s output: the whole why, colours that do not pass a failing hook, each row linked
to its own counterexample drawn on the page."""

from __future__ import annotations

import contextlib
import functools
import io
import json

import pytest

from quiesce_check import hooks
from quiesce_check.cli import main
from quiesce_check.domain.explain import explainer
from quiesce_check.engines.result import Options
from quiesce_check.output.ablation import ablation_html
from tests.conftest import ROOT
from tests.output.test_html import _Page

ANDREW = str(ROOT / "specs" / "hooks" / "andrew_2014.qdl")
V2 = str(ROOT / "models" / "v2_blkfront_blkback.qdl")
ONE = {"NREQS": 1}
FAST = Options(keep_going=True, backend="python")
PROPERTY_KINDS = ("invariant", "final", "action", "liveness")  # a property's trace; not a deadlock's


def hand_made(full_fails: bool) -> tuple[hooks.Hook, hooks.Ablation]:
    """Two obligations: without `unmap` image_consistent breaks; without `spare` nothing more breaks
    than with both (with both, migration_completes fails when `full_fails`)."""
    live = frozenset({"migration_completes"})
    status = "violated" if full_fails else "holds"
    lengths = {"migration_completes": 9} if full_fails else {}
    why = {"migration_completes": "The target is never resumed."} if full_fails else {}
    full = hooks.Outcome(frozenset({"unmap", "spare"}), {"image_consistent": "holds", "migration_completes": status},
                         lengths, why, live=live)
    spare = hooks.Outcome(frozenset({"unmap"}), dict(full.statuses), dict(lengths), dict(why), live=live)
    unmap = hooks.Outcome(frozenset({"spare"}), {"image_consistent": "violated", "migration_completes": status},
                          {"image_consistent": 17, **lengths}, {"image_consistent": "Word 1 of page 0.", **why},
                          live=live)
    hook = hooks.Hook("h", "x", "after_suspend", ("Blkback",), {"unmap": "unmap", "spare": "nothing"})
    return hook, hooks.Ablation(full, {"unmap": unmap, "spare": spare}, [] if full_fails else [frozenset({"unmap"})])


def cells(html: str) -> dict[str, list[tuple[str, str]]]:
    """Each row of the ablation table: its cells' class and text, by the obligation it is without."""
    rows: dict[str, list[tuple[str, str]]] = {}
    for tr in html.split("<tr")[2:]:
        tds = tr.split("<td")[1:]
        got = [(td.split(">", 1)[0].replace('class="', "").strip(' "'), td.split(">", 1)[1].split("</td>")[0])
               for td in tds]
        rows[got[0][1]] = got
    return rows


@pytest.mark.parametrize("full_fails", [True, False])
def test_breaking_nothing_more_passes_only_when_every_obligation_passes(full_fails: bool) -> None:
    hook, ab = hand_made(full_fails)
    html = ablation_html(hook, ab)
    spare = cells(html)["spare"]
    assert spare[2][1] == ("nothing more than with every obligation" if full_fails else "nothing: not needed")
    assert spare[2][0] == ("unchanged" if full_fails else "holds")
    # a dash says nothing broke; it is not a pass
    assert spare[3] == ("", "-")
    assert cells(html)["unmap"][2] == ("violated", "image_consistent")
    # the page says, as the terminal does, that the hook fails with every obligation
    assert ('id="ablation-full"' in html) == full_fails
    if full_fails:
        assert "The target is never resumed. The hook needs something it does not list." in html


@pytest.fixture(scope="module")
def andrew(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict, str]:
    """`hook andrew_2014 --ablate` on blkback: its terminal output, JSON and page."""
    d = tmp_path_factory.mktemp("andrew")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["hook", ANDREW, "--model", V2, "--param", "NREQS=1", "--ablate", "--backend", "python",
                     "--no-coverage", "--json", str(d / "h.json"), "--html", str(d / "h.html")])
    assert code == 13
    return out.getvalue(), json.loads((d / "h.json").read_text()), (d / "h.html").read_text()


@functools.cache
def whole_whys(off: str) -> dict[str, list[str]]:
    """The explanation's sentences of each violated property's shortest counterexample with
    obligation `off` off, from a search made here."""
    probe = hooks.build_composed(ANDREW, V2, ONE)
    hook = hooks.hook_of(probe)
    built, result = hooks.check_with(ANDREW, V2, ONE, {n: n != off for n in hook.obligations},
                                     hooks.all_properties(probe), FAST)
    explain = explainer(built.ast.sources, built.checked.consts)
    assert explain is not None
    return {p: explain(built.model.info, t) for p, t in result.traces.items() if t.kind in PROPERTY_KINDS}


def test_the_why_is_the_whole_explanation(andrew: tuple[str, dict, str]) -> None:
    text, doc, _ = andrew
    without = doc["ablation"]["without"]
    for off, outcome in without.items():
        violated = [p for p, s in outcome["statuses"].items() if s == "violated"]
        assert violated and {p: outcome["why"][p] for p in violated} == {
            p: " ".join(whole_whys(off)[p]) for p in violated}
    # more than the first sentence, at least once
    assert any(len(lines) > 1 for off in without for lines in whole_whys(off).values())
    # the terminal's why column: the row's cells, joined, are the whole explanation
    rows: dict[str, list[str]] = {}
    name = ""
    for line in text.splitlines():
        if "│" in line:
            cols = [c.strip() for c in line.split("│")]
            name = cols[0] or name
            rows.setdefault(name, []).append(cols[-1])
    for off, outcome in without.items():
        shown = " ".join(" ".join(rows[off]).split())
        assert shown in {" ".join(w.split()) for w in outcome["why"].values()}
        assert len(shown) > 200


def test_each_row_links_to_its_own_counterexample_on_the_page(andrew: tuple[str, dict, str]) -> None:
    _, doc, html = andrew
    page = _Page()
    page.feed(html)
    ids = [a["id"] for _, a in page.elements if "id" in a]
    assert len(ids) == len(set(ids))  # every anchor unique
    links = [a["href"] for t, a in page.elements if t == "a" and a.get("href", "").startswith("#ablation-cex-")]
    assert len(links) == len(doc["ablation"]["without"]) == 2
    sections = {a["id"]: a for t, a in page.elements if t == "section"}
    for i, (off, link) in enumerate(zip(doc["ablation"]["without"], links, strict=True)):
        target = link[1:]
        assert target in sections
        # the section is the row's own: headed with the obligation it is without, and drawn
        part = html.split(f'id="{target}"', 1)[1].split("</section>", 1)[0]
        assert f"<h2>Without {off}: " in part and 'class="timeline"' in part and 'class="trace"' in part
        assert f'href="#ablation-{i}"' in html.split(f'id="{target}"', 1)[1]
