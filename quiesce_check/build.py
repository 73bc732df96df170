"""The front half of the pipeline in one call: file to checked model to compiled model.

Takes a model path (or text) and parameter overrides; gives a `Built` holding
every stage's result. Reads what the model's `use` declarations name (the
vocabularies of `domain`, or files beside the model). Raises `ModelError` for
a model that does not parse, type-check or lower. Imports `lang`, `compile`,
`domain`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from quiesce_check.compile.deadline import Deadline
from quiesce_check.compile.expansion import check_expansion
from quiesce_check.compile.ir import Program
from quiesce_check.compile.layout_build import build_layout
from quiesce_check.compile.lower import lower
from quiesce_check.compile.pygen import CompiledModel, compile_program
from quiesce_check.compile.size import check_size
from quiesce_check.compile.symmetry import Symmetry, build_symmetry
from quiesce_check.domain import VOCABULARIES, vocabulary_path
from quiesce_check.lang import ast as A
from quiesce_check.lang.checker import CheckedModel, check
from quiesce_check.lang.errors import Diagnostic, ModelError, Span, nearest
from quiesce_check.lang.modules import Expanded, Loaded, expand
from quiesce_check.lang.parser import parse
from quiesce_check.lang.types import Value

# A model file larger than this is refused before parsing.
MAX_MODEL_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Built:
    ast: A.Model
    checked: CheckedModel
    program: Program
    model: CompiledModel


def read_model(path: str) -> str:
    """The text of a model file, or `ModelError` E004 saying why it cannot be read.

    At most MAX_MODEL_BYTES are read, whatever the file claims to be: a device such as
    /dev/zero is refused when it passes the size, not read forever."""
    p = Path(path)
    try:
        if p.is_dir():
            raise IsADirectoryError(path)
        # not blocking in open(): a named pipe nobody writes to reads as empty, not forever
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as f:
            if hasattr(os, "set_blocking"):
                os.set_blocking(fd, True)
            data = f.read(MAX_MODEL_BYTES + 1)
        if len(data) > MAX_MODEL_BYTES:
            raise ModelError([Diagnostic("E004", f"{path}: more than {MAX_MODEL_BYTES} bytes; a model may "
                                         f"have at most {MAX_MODEL_BYTES}", None)])
    except ModelError:
        raise
    except IsADirectoryError:
        raise ModelError([Diagnostic("E004", f"{path} is a directory, not a model file", None)]) from None
    except OSError as e:
        raise ModelError([Diagnostic("E004", f"cannot read {path}: {e.strerror or e}", None)]) from None
    except ValueError as e:  # a path with a NUL byte in it
        raise ModelError([Diagnostic("E004", f"cannot read {path!r}: {e}", None)]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ModelError([Diagnostic("E004", f"{path} is not UTF-8 text (byte {e.start})", None)]) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise ModelError([Diagnostic("E004", f"{path} contains a NUL byte: it is not a text file",
                                     Span(path, line, 1, line, 2))])
    return text


def _use_file(use: A.UseDecl, from_path: str) -> tuple[Path, Path]:
    """The file a `use "..."` names, relative to the file that uses it, as named and as it really
    is (every link followed).

    A model is untrusted input. It is read with the user's own permissions, so it can name
    nothing the user could not read anyway; and what it reads can reach the output (a
    diagnostic quotes the offending line), so it may name only regular `.qdl` files: no
    device, pipe or directory, and no file of another kind."""
    def refuse(why: str) -> ModelError:
        return ModelError([Diagnostic("E014", f"`use \"{use.target}\"`: {why}", use.span)])

    if not use.target or Path(use.target).suffix != ".qdl":
        raise refuse("a file named by `use` must be a QDL model (`.qdl`)")
    base = Path(from_path).parent if from_path not in ("<input>", "") else Path(".")
    target = base / use.target
    try:
        if not os.path.lexists(target):
            return target, target  # read_model says it cannot be read
        # the rule holds for the file itself, wherever links lead: never a file of another kind
        real = target.resolve(strict=True)
        if real.suffix != ".qdl":
            raise refuse("it is a link to a file that is not a QDL model (`.qdl`)")
        if not real.is_file():
            raise refuse("not a regular file")
    except (OSError, RuntimeError, ValueError) as e:
        raise refuse(f"cannot resolve the path: {getattr(e, 'strerror', None) or e}") from None
    return target, real


def load_use(use: A.UseDecl, from_path: str) -> Loaded:
    """What a `use` names: a built-in vocabulary, or a file relative to the file that uses it."""
    if use.is_file:
        target, real = _use_file(use, from_path)
        try:
            text = read_model(str(real))
        except ModelError as e:
            raise ModelError([Diagnostic("E014", f"`use \"{use.target}\"`: {e.diagnostics[0].message}",
                                         use.span)]) from None
        return Loaded(f"file:{real}", parse(text, str(target)))
    vocab = vocabulary_path(use.target)
    if vocab is None:
        raise ModelError([Diagnostic("E014", f"there is no vocabulary `{use.target}`", use.span,
                                     nearest(use.target, VOCABULARIES) or "the vocabularies are "
                                     + ", ".join(sorted(VOCABULARIES)))])
    return Loaded(f"vocabulary:{use.target}", parse(read_model(str(vocab)), str(vocab)))


def build_text(text: str, path: str = "<input>", params: dict[str, Value] | None = None,
               select: list[str] | None = None, rewrite: Callable[[Expanded], Expanded] | None = None) -> Built:
    """`select`, when given, names the only invariants and final properties to check; `rewrite`
    changes the declarations once every `use` is spliced in, before they are checked (a hook's
    obligations made variables, `hooks.build_switched`). Every stage here is bounded by the
    model's size (`check_expansion`, `check_size`); the ones that are not, the symmetry tables
    and the C compiler, take the run's `Deadline`."""
    expanded = expand(parse(text, path), load_use)
    if rewrite is not None:
        expanded = rewrite(expanded)
    tree = expanded.model
    checked = check(tree, params, expanded.origins, select)
    check_expansion(checked)
    program = lower(checked, build_layout(checked))
    check_size(program)
    return Built(tree, checked, program, compile_program(program))


def build_file(path: str, params: dict[str, Value] | None = None, select: list[str] | None = None) -> Built:
    return build_text(read_model(path), path, params, select)


def symmetry_of(built: Built, deadline: Deadline | None = None) -> Symmetry | None:
    """The permutations of the model's `symmetric type`s, or None when it declares none; raises
    `ModelError` (E024) when there are too many to canonicalise by."""
    return build_symmetry(built.program.layout, built.checked.symmetric, deadline)
