"""What the command line says about itself: `--version`, a bare `quiesce-check`, every option's
help, and a `hook` command whose spec and model are the wrong way round."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from quiesce_check.cli import main, make_parser
from quiesce_check.engines.result import EXIT_USAGE
from quiesce_check.usage import swapped_hook
from tests.conftest import ROOT

SPEC = ROOT / "specs" / "hooks" / "s15_handshake.qdl"
MODEL = ROOT / "models" / "v2_blkfront_blkback.qdl"


def command(*argv: str) -> subprocess.CompletedProcess[str]:
    """`quiesce-check ARGV` as a user runs it: a process of its own, from the repository."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "quiesce_check", *argv], cwd=ROOT, capture_output=True,
                          text=True, env=env, timeout=120)


def subcommands() -> dict[str, argparse.ArgumentParser]:
    (sub,) = [a for a in make_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def test_version_is_the_one_pyproject_declares() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    r = command("--version")
    assert (r.returncode, r.stdout.strip(), r.stderr) == (0, f"quiesce-check {declared}", "")


def test_a_bare_command_prints_the_usage_and_the_documented_exit_code() -> None:
    r = command()
    assert r.returncode == EXIT_USAGE == 151
    assert r.stdout == "" and "Traceback" not in r.stderr
    # the first line is an error, as for every bad command line; the usage follows
    assert r.stderr.startswith("error: no command given (exit 151)")
    assert "\nusage: quiesce-check" in r.stderr
    # every command is named, with the way to its options
    for name in subcommands():
        assert re.search(rf"^\s+{name}\s+\S", r.stderr, re.M), name
    assert "quiesce-check COMMAND --help" in r.stderr
    # the README's table of exit codes says what a bare command exits with
    row = next(line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("| 151 |"))
    assert "no command" in row


def test_every_option_of_every_command_has_help() -> None:
    for name, parser in subcommands().items():
        for action in parser._actions:
            assert action.help, (name, action.option_strings or action.dest)
    backend = next(a for a in subcommands()["hook"]._actions if "--backend" in a.option_strings)
    assert "native" in str(backend.help) and "python" in str(backend.help.lower())


def test_a_hook_command_with_spec_and_model_swapped_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["hook", str(MODEL), "--model", str(SPEC)])
    err = capsys.readouterr().err
    assert code == EXIT_USAGE
    assert "wrong way round" in err and "declares a `hook`" in err
    # the command to type instead: the spec first, the model after --model
    assert f"quiesce-check hook {SPEC} --model {MODEL}" in err.replace("\n", "")


def test_swapped_is_told_only_from_the_files_own_declarations(tmp_path: Path) -> None:
    spec, model = SPEC.read_text(), MODEL.read_text()
    assert swapped_hook(str(SPEC), spec, str(MODEL), model) is None   # the right way round
    assert swapped_hook(str(MODEL), model, str(SPEC), spec) is not None
    # neither file declares a hook: not a swap; the build says the spec declares none (E014)
    assert swapped_hook(str(MODEL), model, str(MODEL), model) is None
    # a first file that does not parse: not a swap; the build reports the syntax error where it is
    assert swapped_hook("bad.qdl", "process {", str(SPEC), spec) is None
