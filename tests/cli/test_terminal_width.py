"""`check` on an 80-column terminal, and what its summary says about time and unused steps.

s17 composes the Xen vocabulary with RECOVERY=BlkifRecover (models/lib/blk.qdl's `use` passes
it): the target frontend's branches for the other four settings cannot run, and the coverage
report must say so apart from the steps that could have fired and did not.
"""

from __future__ import annotations

import re

import pytest
from rich.cells import cell_len

from quiesce_check.cli import main
from tests.conftest import ROOT

S17 = str(ROOT / "models" / "s17_stop_processing_without_unmap.qdl")
# lines printed whole on purpose, for grep and copy: the statistics
UNWRAPPED = ("states generated", "visited states:")


def checked(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, columns: int) -> str:
    monkeypatch.setenv("COLUMNS", str(columns))
    code = main(["check", S17])
    out = capsys.readouterr().out
    assert code == 12, out   # image_consistent is violated (the model's own comment says so)
    return out


def test_at_80_columns_nothing_is_cut_and_the_header_wraps(capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    out = checked(capsys, monkeypatch, 80)
    lines = out.splitlines()
    assert "\u2026" not in out
    assert all(cell_len(line.rstrip()) <= 80 for line in lines if not any(u in line for u in UNWRAPPED)), out
    # the header names every parameter, wrapped over lines rather than run off the edge
    header = " ".join(lines[:lines.index(next(x for x in lines if x.startswith("Properties")))])
    assert "RECOVERY=BlkifRecover" in header and "(engine bfs," in header


def test_steps_for_other_settings_are_reported_apart(capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    out = checked(capsys, monkeypatch, 200)
    m = re.search(r"^(\d+) steps not used with RECOVERY=BlkifRecover \(xen\.qdl:([\d, ]+)\)$", out, re.M)
    assert m, out
    # the lines of the other settings' branches (xen.qdl's TargetFrontend: NetfrontDiscard at 510,
    # ReuseRing's two loops at 513 and 514, XbInitComms at 517 and 518)
    assert {510, 513, 514, 517, 518} <= {int(x) for x in m.group(2).split(", ")}
    # none of them is in the coverage table, nor counted among the steps that never fired
    table = out.split("Coverage", 1)[1].split("not used with", 1)[0]
    assert not re.search(r"xen\.qdl:51[0-8]\b", table)
    never = re.search(r"^(\d+) action\(s\) never fired$", table, re.M)
    rows = [line for line in table.splitlines() if "\u2502 never \u2502" in line]
    assert never is not None and int(never.group(1)) == len(rows)


def test_the_summary_says_search_and_build_time_apart(capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    out = checked(capsys, monkeypatch, 200)
    m = re.search(r"depth \d+, (\d+\.\d+) s searching after (\d+\.\d+) s building and compiling the model", out)
    assert m, out
    # building, checking and compiling the Xen vocabulary takes longer than searching its 3,788 states
    assert float(m.group(2)) > float(m.group(1))


def test_hook_at_80_columns(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    spec = ROOT / "specs" / "hooks" / "s15_handshake.qdl"
    main(["hook", str(spec), "--model", str(ROOT / "models" / "v2_blkfront_blkback.qdl"), "--param", "NREQS=1"])
    out = capsys.readouterr().out
    assert "\u2026" not in out
    assert all(cell_len(line.rstrip()) <= 80 for line in out.splitlines() if not any(u in line for u in UNWRAPPED))
    # the spec's file name, the one that tells it apart from the model's files, is whole where its steps are
    assert re.search(r"\bs15_handshake\.qdl:\d+|\bline \d+", out)
    assert "building and compiling the model" in out
