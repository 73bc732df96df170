"""Every file of the repository that README.md and docs/ name is there, and so is every page
pyproject.toml gives as a project URL.

A repository path is a name with a slash whose first part is a folder at the repository's root
(`models/lib/blk.qdl`, `specs/hooks/`, `docs/images/...`), or of the package (`engines/bfs.py`,
as docs/architecture.md writes them, under `quiesce_check/`); a page (`catalogue.md`) a
document names by its file name; and the target of every relative Markdown link. Names of
other projects' files (Xen's `io/ring.h`) and the placeholders of command lines (`MODEL.qdl`)
are none of these."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "quiesce_check"


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _folders(root: Path) -> set[str]:
    return {p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "__"))
            and not p.name.endswith(".egg-info")}


# a name with at least one slash, not inside a longer word, path or address
SLASHED = re.compile(r"(?<![\w./~<-])((?:[\w-]+/)+[\w.*-]*)")
PAGE = re.compile(r"(?<![\w./-])([\w-]+\.md)\b")
LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")


def _exists(path: Path) -> bool:
    """A file or folder, a module named without `.py` (`lang/parser`), or a pattern that matches."""
    if "*" in path.name:
        return any(path.parent.glob(path.name))
    return path.exists() or path.with_name(path.name + ".py").exists()


def missing(text: str, doc: Path, root: Path = ROOT) -> list[str]:
    """The repository paths `text` (the text of `doc`) names that are not in `root`."""
    top, package = _folders(root), _folders(root / "quiesce_check")
    pages = {p.name for p in root.rglob("*.md") if ".venv" not in p.parts}
    out = []
    for m in SLASHED.finditer(text):
        name = m.group(1).rstrip(".")  # the end of a sentence
        first = name.split("/")[0]
        # a folder at the root first, else one of the package's (docs/architecture.md's `engines/...`)
        base = root if first in top else root / "quiesce_check" if first in package else None
        if base is not None and not _exists(base / name):
            out.append(name)
    out += [name for name in PAGE.findall(text) if name not in pages]
    out += [target for target in LINK.findall(text)
            if "://" not in target and not target.startswith("mailto:") and not (doc.parent / target).exists()]
    return out


@pytest.mark.parametrize("doc", documents(), ids=lambda p: p.name)
def test_every_file_a_document_names_is_in_the_repository(doc: Path) -> None:
    assert missing(doc.read_text(), doc) == []


def test_the_check_finds_what_is_not_there(tmp_path: Path) -> None:
    # a repository of its own: two folders, one model, one page
    for name in ("models/a.qdl", "docs/b.md", "quiesce_check/engines/bfs.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    doc = tmp_path / "docs" / "b.md"
    text = ("`models/a.qdl` and `models/gone.qdl`; `engines/bfs.py` and `engines/dfs.py`; b.md and "
            "brief.md; [here](b.md), [there](../models/none.qdl) and [away](https://example.org/x.md); "
            "Xen's io/ring.h, `MODEL.qdl`, `models/*.qdl`, `models/*.toml`")
    assert missing(text, doc, tmp_path) == ["models/gone.qdl", "engines/dfs.py", "models/*.toml", "brief.md",
                                            "../models/none.qdl"]


def test_every_project_url_is_a_page_of_the_repository() -> None:
    urls = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]
    assert "Homepage" in urls
    for label, url in urls.items():
        # no hosting is claimed: each is a path from the source tree's root, and it is there
        assert "://" not in url and (ROOT / url).exists(), (label, url)
