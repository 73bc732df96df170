"""Determinism: the same model, parameters, engine and seed give byte-identical JSON results
(times aside), traces and reports in every process, whatever Python's string-hash salt.

Each process runs the real command line on a set of runs and reports their files and output;
processes with different PYTHONHASHSEED values must agree byte for byte.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from quiesce_check.compile.cgen import compiler
from tests.conftest import ROOT

M = ROOT / "models" / "precopy_backend.qdl"
E = ROOT / "examples"

RUNS: list[list[str]] = [
    ["check", str(M), "--param", "PERSISTENT=true", "--param", "NPAGES=3", "--backend", "python"],
    ["check", str(E / "peterson_broken.qdl"), "--continue", "--backend", "python"],
    ["check", str(E / "two_phase_commit.qdl"), "--engine", "dfs"],
    ["check", str(M), "--param", "KEEP_PROCESSING=true", "--engine", "random", "--seed", "7", "--walks", "300"],
    ["check", str(E / "peterson.qdl"), "--max-states", "40", "--backend", "python"],
]
if compiler() is not None:
    RUNS += [["check", str(M), "--param", "PERSISTENT=true", "--param", "NPAGES=3", "--backend", "native"],
             ["check", str(E / "peterson_broken.qdl"), "--continue", "--backend", "native"]]

_DRIVER = """
import contextlib, io, json, os, sys
from quiesce_check.cli import main
runs = json.loads(sys.argv[1])
os.chdir(sys.argv[2])  # output files named alike in every process
report = []
for k, argv in enumerate(runs):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        code = main(argv + ["--json", f"{k}.json", "--itf", f"{k}.itf.json"])
    report.append([code, buf.getvalue()])
with open("report.json", "w") as f:
    json.dump(report, f)
"""

_TIMES = re.compile(r"\d+\.\d+ s|[\d,]+ distinct states/s|\d+\.\d bytes each")


def results(tmp: Path, hashseed: str) -> dict[str, object]:
    out = tmp / f"seed-{hashseed}"
    out.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "QUIESCE_CHECK_DEBUG"}
    env["PYTHONHASHSEED"] = hashseed
    env["COLUMNS"] = "160"
    p = subprocess.run([sys.executable, "-c", _DRIVER, json.dumps(RUNS), str(out)], capture_output=True, text=True,
                       timeout=300, env=env, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    got: dict[str, object] = {}
    for k, (code, text) in enumerate(json.loads((out / "report.json").read_text())):
        doc = json.loads((out / f"{k}.json").read_text())
        doc["stats"].pop("seconds")
        doc["stats"].pop("states_per_second")
        got[f"{k}.json"] = json.dumps(doc, indent=1)
        itf = out / f"{k}.itf.json"
        got[f"{k}.itf"] = itf.read_bytes() if itf.exists() else None
        got[f"{k}.out"] = (code, _TIMES.sub("<t>", text))
    return got


def test_results_are_identical_across_processes_and_hash_seeds(tmp_path):
    first = results(tmp_path, "0")
    codes = [first[f"{k}.out"][0] for k in range(len(RUNS))]  # type: ignore[index]
    assert 14 in codes and 12 in codes and 20 in codes  # violations and a limit among them
    assert sum(first[f"{k}.itf"] is not None for k in range(len(RUNS))) >= 3
    for seed in ("1", "4242"):
        again = results(tmp_path, seed)
        for key in first:
            assert again[key] == first[key], (seed, key)
