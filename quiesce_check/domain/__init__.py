"""Domain vocabularies: QDL files a model brings in with `use NAME;`.

A vocabulary is written in QDL itself, so every engine, the reference
interpreter and the C backend get its semantics from one text that engineers
can read, and a model can replace any of its `default` declarations. This
module only says where each one lives. Imports nothing of the project.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

# vocabulary name -> file in this package
VOCABULARIES: dict[str, str] = {"xen": "xen.qdl", "vhost": "vhost.qdl"}


def vocabulary_path(name: str) -> Path | None:
    """The file of vocabulary `name`, or None if there is no such vocabulary."""
    file = VOCABULARIES.get(name)
    if file is None:
        return None
    return Path(str(resources.files("quiesce_check.domain").joinpath(file)))
