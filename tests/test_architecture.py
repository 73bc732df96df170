"""The pipeline flows one way: each stage imports only from the stages before it,
and generated code never contains text taken from a model."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from quiesce_check.build import build_text
from tests.conftest import ROOT

PACKAGE = ROOT / "quiesce_check"

# What each part of the package may import from the package. A part is a folder or a module; a
# module named here answers for itself, not under its folder's entry.
ALLOWED = {
    "lang": {"lang"},
    "compile": {"lang", "compile"},
    "reference": {"lang", "compile", "reference"},
    # a counterexample as data, and what reads one without a result: below the engines
    "trace.types": {"compile"},
    "trace.steps": {"compile", "trace.types"},
    "trace.timeline": {"compile", "trace.types"},
    "engines": {"compile", "engines", "trace.types"},
    "trace": {"lang.types", "lang.positions", "compile", "trace"},
    "build": {"lang", "compile", "domain"},
    "session": {"build", "lang", "compile", "engines"},
    "domain": {"lang", "compile", "engines", "trace", "domain"},
    "regress": {"build", "compile", "engines", "lang"},
    "hooks": {"build", "compile", "domain", "engines", "lang"},
    # the searches behind an ablation's rows, kept for the formats
    "ablation_runs": {"build", "compile", "domain", "engines", "hooks", "lang", "trace"},
    # the formats render what the stages before them computed; a vocabulary's words arrive as data
    "output": {"lang.types", "lang.paths", "compile", "engines", "trace", "regress", "hooks", "ablation_runs",
               "output"},
    "replay": {"compile", "engines", "trace"},
    # what the command line says of itself (version, usage, a hook command's files swapped)
    "usage": {"lang"},
    # the language server parses and checks: what a `use` names is `build`'s, nothing after checking
    "lsp": {"build", "domain", "lang"},
    # the Pygments lexer: loaded by Pygments on its own, it knows nothing of the project
    "pygments_qdl": set(),
    "cli": {"build", "compile", "domain", "engines", "hooks", "ablation_runs", "lang", "lsp", "regress", "output",
            "replay", "session", "trace", "usage"},
    # the entry point: imports the command line, which never imports it back
    "command": {"cli"},
}
# Foundation modules below every stage (safe file writes, escaping what is shown): any part may
# import them, and they import nothing of the project.
FOUNDATION = {"safe_write", "printable"}


def imports(path) -> set[str]:
    tree = ast.parse(path.read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("quiesce_check."):
            out.add(node.module.removeprefix("quiesce_check."))
        elif isinstance(node, ast.Import):
            out.update(a.name.removeprefix("quiesce_check.") for a in node.names if a.name.startswith("quiesce_check."))
    return out


def dotted(path: Path) -> str:
    """`lang/checker/driver.py` as `lang.checker.driver`."""
    return ".".join(path.relative_to(PACKAGE).with_suffix("").parts)


def governing(path: Path) -> str | None:
    """The entry of ALLOWED that answers for a module: the longest that names it or a folder
    above it (a module in a subfolder answers to its folder's entry)."""
    parts = dotted(path).split(".")
    return next((".".join(parts[:k]) for k in range(len(parts), 0, -1) if ".".join(parts[:k]) in ALLOWED), None)


def modules_of(part: str) -> list[Path]:
    """The files `part` answers for: a module, or every module below a folder (subfolders
    included) that no longer entry answers for."""
    path = PACKAGE.joinpath(*part.split("."))
    if not path.is_dir():
        return [path.with_suffix(".py")]
    return [p for p in sorted(path.rglob("*.py")) if governing(p) == part]


def test_every_module_answers_to_an_entry() -> None:
    loose = [dotted(p) for p in sorted(PACKAGE.rglob("*.py"))
             if governing(p) is None and dotted(p) not in FOUNDATION | {"__init__", "__main__"}]
    assert loose == []


@pytest.mark.parametrize("part", sorted(ALLOWED))
def test_imports_flow_one_way(part: str) -> None:
    paths = modules_of(part)
    assert paths and all(p.is_file() for p in paths)
    for path in paths:
        for mod in imports(path):
            assert mod in FOUNDATION or any(mod == a or mod.startswith(a + ".") for a in ALLOWED[part]), \
                f"{path.name} imports {mod}"


def test_the_engines_load_no_front_end() -> None:
    """Loading any engine loads neither the parser (nor Lark) nor the checker: what an engine needs of
    a model is its layout and its IR, not the language it was written in."""
    engines = ["quiesce_check.engines"] + [f"quiesce_check.engines.{p.stem}"
                                            for p in sorted((PACKAGE / "engines").glob("*.py")) if p.stem != "__init__"]
    front = ["lark", "quiesce_check.lang.parser", "quiesce_check.lang.checker"]
    script = (f"import importlib, sys\nfor m in {engines!r}: importlib.import_module(m)\n"
              f"print([m for m in {front!r} if m in sys.modules])")
    r = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


@pytest.mark.parametrize("name", sorted(FOUNDATION))
def test_foundation_modules_import_nothing_of_the_project(name: str) -> None:
    assert imports(PACKAGE / f"{name}.py") == set()


def test_model_names_never_reach_generated_code() -> None:
    text = """
var __import__: 0..2 = 0;
var exec: bool = false;
process os { __import__ := __import__ + 1; exec := true; }
action system(eval in 0..1) when eval == 0 and not exec { __import__ := 0; }
invariant globals: __import__ <= 2;
"""
    built = build_text(text, "hostile.qdl")
    for word in ("__import__", "exec", "os", "system", "eval", "globals"):
        assert word not in built.model.source.replace("(s, out)", "")
    assert built.model.successors(built.model.initial_states()[0])


@pytest.mark.skipif(shutil.which("ruff") is None and not (ROOT / ".venv/bin/ruff").exists(), reason="ruff not installed")
def test_ruff_is_clean() -> None:
    ruff = shutil.which("ruff") or str(ROOT / ".venv/bin/ruff")
    r = subprocess.run([ruff, "check", "quiesce_check", "tests"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy_is_clean() -> None:
    pytest.importorskip("mypy")
    r = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
