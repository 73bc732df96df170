"""What a checkpoint records about the run that wrote it, and the check `resume` makes of it.

Takes a built model and the run's settings; gives the metadata saved with every checkpoint
(`checkpoint_meta`: the model's path, a SHA-256 of every source file it was built from and
one of the code generated from it, its parameters, the properties checked and the search's
settings) and, for `resume`, that metadata read back strictly (`ResumeSpec`) and compared
with the model as it is now (`check_same_model`). A checkpoint resumes only on the model it
explored, with the same parameters, built by a quiesce-check that generates the same code.
Imports `build`, `compile.pygen`, `engines.checkpoint`, `lang.types`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from quiesce_check.build import Built
from quiesce_check.compile.pygen import CompiledModel
from quiesce_check.engines.checkpoint import CheckpointError
from quiesce_check.lang.checker import MAX_CONST_BITS
from quiesce_check.lang.types import Value


def _version() -> str:
    try:
        return metadata.version("quiesce-check")
    except metadata.PackageNotFoundError:
        return "unknown"


def sources_digest(built: Built) -> str:
    """The model's own text and every file it uses, in the order they were read."""
    h = hashlib.sha256()
    for text in built.ast.sources.values():
        data = text.encode("utf-8", "surrogatepass")
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def program_digest(built: Built) -> str:
    """The generated step code: equal for equal models built by an equal quiesce-check."""
    model = built.model
    source = model.source if isinstance(model, CompiledModel) else repr(built.program)
    return hashlib.sha256(source.encode()).hexdigest()


def checkpoint_meta(model_path: str, built: Built, params: dict[str, Value], properties: list[str] | None,
                    check_deadlock: bool, keep_going: bool, symmetry: bool = False) -> dict[str, Any]:
    return {
        "model": str(Path(model_path).resolve()),
        "sources_sha256": sources_digest(built),
        "program_sha256": program_digest(built),
        "params": dict(sorted(params.items())),
        "properties": properties,
        "check_deadlock": check_deadlock,
        "keep_going": keep_going,
        "symmetry": symmetry,
        "engine": "bfs",
        "quiesce_check": _version(),
    }


@dataclass(frozen=True)
class ResumeSpec:
    """The run a checkpoint belongs to, as its metadata records it (each field checked)."""

    model: str
    params: dict[str, Value]
    properties: list[str] | None
    check_deadlock: bool
    keep_going: bool
    meta: dict[str, Any]
    symmetry: bool = False  # the search kept one canonical state per orbit of the symmetric types


def recorded_param(name: object, value: object) -> bool:
    """Whether a parameter a trace or checkpoint file records is one a model could have: a name,
    with a boolean, an enum member's name or an integer no longer than a model's constants (a
    default may exceed what --param accepts)."""
    return isinstance(name, str) and name.isidentifier() and (
        isinstance(value, bool) or (isinstance(value, int) and abs(value).bit_length() <= MAX_CONST_BITS)
        or (isinstance(value, str) and value.isidentifier()))


def read_meta(meta: dict[str, Any], where: str) -> ResumeSpec:
    def bad(what: str) -> CheckpointError:
        return CheckpointError(f"{where} is damaged: {what}")

    model = meta.get("model")
    if not isinstance(model, str) or not model or "\x00" in model:
        raise bad("it names no model file")
    params = meta.get("params")
    if not isinstance(params, dict) or not all(recorded_param(k, v) for k, v in params.items()):
        raise bad("its parameters are not names with values")
    props = meta.get("properties")
    if props is not None and not (isinstance(props, list) and all(isinstance(p, str) for p in props)):
        raise bad("its list of properties is not a list of names")
    flags = [meta.get("check_deadlock"), meta.get("keep_going")]
    if not all(isinstance(f, bool) for f in flags):
        raise bad("its search settings are missing")
    for key in ("sources_sha256", "program_sha256"):
        if not isinstance(meta.get(key), str):
            raise bad(f"it records no `{key}`")
    if meta.get("engine") != "bfs":
        raise bad("it is not of a breadth-first search")
    symmetry = meta.get("symmetry", False)
    if not isinstance(symmetry, bool):
        raise bad("its symmetry setting is not true or false")
    return ResumeSpec(model, dict(params), props, bool(flags[0]), bool(flags[1]), meta, symmetry)


def check_same_model(spec: ResumeSpec, built: Built, model_path: str) -> None:
    """`CheckpointError` unless `built` is the model, with the parameters, the checkpoint explored."""
    if sources_digest(built) != spec.meta["sources_sha256"]:
        raise CheckpointError(f"{model_path} (or a file it uses) has changed since the checkpoint was written; "
                              "a search resumes only on the model it explored")
    if program_digest(built) != spec.meta["program_sha256"]:
        recorded = spec.meta.get("quiesce_check")
        raise CheckpointError(
            "the checkpoint was written by a quiesce-check that builds this model differently"
            + (f" (version {recorded}, this is {_version()})" if isinstance(recorded, str) else "")
            + "; start the search again")
