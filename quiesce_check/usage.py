"""What the command line says about itself: its version, its usage when no command is given, and a
`hook` command line whose spec and model are the wrong way round.

Takes the installed distribution's metadata, an argument parser, and the paths and text of a hook
command's two files; gives text for `cli` to print (a message it raises as a usage error, exit 151).
Imports `lang` only (the parser, to read the declarations a file makes itself); never prints.
"""

from __future__ import annotations

import argparse
from importlib import metadata

from quiesce_check.lang import ast as A
from quiesce_check.lang.errors import ModelError
from quiesce_check.lang.parser import parse
from quiesce_check.lang.paths import display

DISTRIBUTION = "quiesce-check"


def version() -> str:
    """`quiesce-check 0.1.0`: the version pyproject.toml gives, as the installed metadata says it.

    Run from a source tree that was never installed there is no metadata to read: the text says
    so rather than guess a number."""
    try:
        return f"{DISTRIBUTION} {metadata.version(DISTRIBUTION)}"
    except metadata.PackageNotFoundError:
        return f"{DISTRIBUTION} (version unknown: not installed; `pip install -e .` from the source tree)"


def bare_usage(parser: argparse.ArgumentParser, exit_code: int) -> str:
    """What a bare `quiesce-check` prints: an error line first, as every bad command line has
    (with its exit code, since there is nothing the tool can do), then the commands and how to get
    a command's options."""
    return (f"error: no command given (exit {exit_code}); `quiesce-check COMMAND --help` lists a "
            f"command's options\n\n" + parser.format_help().rstrip("\n"))


def _declares_hook(text: str, path: str) -> bool | None:
    """Whether the file's own declarations (not those of the files it uses) include a `hook`;
    None when it does not parse (the build that follows reports that, with its location)."""
    try:
        return any(isinstance(d, A.HookDecl) for d in parse(text, path).decls)
    except (ModelError, RecursionError):
        return None


def swapped_hook(spec: str, spec_text: str, model: str, model_text: str) -> str | None:
    """The message for `hook MODEL --model SPEC`: the first file declares no `hook` and the one
    after `--model` does. None when the two are the right way round, or when that cannot be told
    from the files themselves (then the usual checks say what is wrong)."""
    if _declares_hook(spec_text, spec) is not False or not _declares_hook(model_text, model):
        return None
    return (f"the spec and the model are the wrong way round: {display(model)} declares a `hook` and "
            f"{display(spec)} does not; the spec comes first and the model after --model: "
            f"quiesce-check hook {display(model)} --model {display(spec)}")
