"""The language server, `quiesce-check lsp`: QDL diagnostics and go-to-definition in an editor.

Takes LSP messages on standard input (pygls, the `lsp` extra); gives on standard output, for
each open document, the checker's diagnostics as its text changes (code, message, hint and
span as an LSP range, a clash's other location as related information) and the declaration of
the name under the cursor. A document is parsed, its `use`s expanded and its declarations
checked: never lowered, compiled or searched, so no part of a model is ever run. A hook spec is
only parsed: its names are those of the model the `hook` command composes it with. Imports
`build` (what a `use` names), `domain` (where a vocabulary lives) and `lang`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from lsprotocol import types as T
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path
from pygls.workspace.position_codec import PositionCodec, ServerTextPosition

from quiesce_check.build import load_use
from quiesce_check.domain import vocabulary_path
from quiesce_check.lang import ast as A
from quiesce_check.lang.checker import check
from quiesce_check.lang.errors import Diagnostic, ModelError, Span
from quiesce_check.lang.modules import Loaded, Loader, expand
from quiesce_check.lang.parser import parse

# Seconds of quiet after a keystroke before the document is checked again: typing a word
# checks it once, not once a letter.
DEBOUNCE = 0.25

# the path of a document that is not a file (an unsaved buffer)
UNTITLED = "<input>"


# ------------------------------------------------------------------ analysis


@dataclass(frozen=True)
class Analysis:
    """One version of a document: its diagnostics, and the models to find names in (the file
    as parsed, and with what its `use`s name spliced in), None where that stage failed."""

    text: str
    path: str
    diagnostics: tuple[Diagnostic, ...]
    own: A.Model | None = None
    model: A.Model | None = None


# The most used files a server keeps parsed.
MAX_CACHED_USES = 64


class UseCache:
    """What `use`s name (`build.load_use`), each file parsed once while it stays as it was (the
    same file, size and modification time): a vocabulary takes most of a check to parse, and a
    model is checked again at every pause in typing."""

    def __init__(self) -> None:
        self.loaded: dict[tuple[object, ...], Loaded] = {}

    @staticmethod
    def _key(use: A.UseDecl, from_path: str) -> tuple[object, ...] | None:
        if use.is_file:
            base = Path(from_path).parent if from_path not in (UNTITLED, "") else Path(".")
            target: Path | None = base / use.target
        else:
            target = vocabulary_path(use.target)
        try:
            st = os.stat(target) if target is not None else None
        except (OSError, ValueError):
            return None  # `load_use` says why it cannot be read
        if st is None:
            return None
        return use.is_file, use.target, str(target), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns

    def __call__(self, use: A.UseDecl, from_path: str) -> Loaded:
        key = self._key(use, from_path)
        hit = self.loaded.get(key) if key is not None else None
        if hit is None:
            hit = load_use(use, from_path)
            if key is not None:
                self.loaded[key] = hit
                while len(self.loaded) > MAX_CACHED_USES:
                    del self.loaded[next(iter(self.loaded))]
        return hit


def analyse(text: str, path: str, load: Loader = load_use) -> Analysis:
    """Parse, expand (reading what `use`s name through `load`) and check `text` as the file at
    `path`; nothing after the checking passes."""
    try:
        own = parse(text, path)
    except ModelError as e:
        return Analysis(text, path, e.diagnostics)
    except RecursionError:
        return Analysis(text, path, (Diagnostic("E001", "the model is nested too deeply to parse", None),))
    if any(isinstance(d, A.HookDecl) for d in own.decls):
        return Analysis(text, path, (), own, own)
    try:
        expanded = expand(own, load)
    except ModelError as e:
        return Analysis(text, path, e.diagnostics, own, own)
    try:
        check(expanded.model, None, expanded.origins)
    except ModelError as e:
        return Analysis(text, path, e.diagnostics, own, expanded.model)
    except RecursionError:
        diag = Diagnostic("E024", "the model is nested too deeply to check", None)
        return Analysis(text, path, (diag,), own, expanded.model)
    return Analysis(text, path, (), own, expanded.model)


# --------------------------------------------------------------- declarations


@dataclass(frozen=True)
class Site:
    """Where a name is declared. The name is the first match of `before` then the name inside
    `where` (a whole declaration), or `where` itself when `exact`; it is visible inside `scope`
    (everywhere when None), and belongs to `owner` (a process, for its locals and labels; an
    enum type, for its members) where it can be named as `owner.name` or `owner@name`."""

    name: str
    kind: str
    where: Span
    scope: Span | None = None
    owner: str | None = None
    before: str = ""
    exact: bool = False


# names that only `owner.name`, `owner@name` or a record value reach, never a bare name
_QUALIFIED_ONLY = ("label", "field", "member")

_TOP_KIND = {A.ParamDecl: "param", A.ConstDecl: "const", A.TypeDecl: "type", A.VarDecl: "var",
             A.ProcessDecl: "process", A.ActionDecl: "action", A.DefDecl: "def", A.ProcDecl: "proc",
             A.ObligationDecl: "obligation", A.HookDecl: "hook", A.LivenessDecl: "liveness",
             A.StepPropertyDecl: "property"}

# a bound name's node -> what stands before the name in it (a set map's body comes first)
_BINDERS: dict[type, str] = {A.Quant: "", A.ArrayComp: "", A.SetFilter: "", A.Choose: "", A.For: "",
                             A.With: "", A.SetMap: r"\bfor\s+"}


def _children(node: object) -> Iterator[object]:
    """The nodes directly below `node` (through tuples, and the pairs of a record literal)."""
    stack: list[object] = [getattr(node, f.name) for f in dataclasses.fields(node)  # type: ignore[arg-type]
                           if f.name != "span"]
    while stack:
        v = stack.pop()
        if isinstance(v, tuple):
            stack.extend(v)
        elif dataclasses.is_dataclass(v) and not isinstance(v, type):
            yield v


def _within(decl: A.Decl) -> Iterator[object]:
    """Every node of a declaration, itself included."""
    stack: list[object] = [decl]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(_children(node))


def _until_end(start: Span, end: Span) -> Span:
    return Span(start.path, start.line, start.col, end.end_line, end.end_col)


def _node_sites(node: object, decl: A.Decl) -> Iterator[Site]:
    """The names one node declares, inside the top-level declaration `decl`."""
    span = getattr(node, "span", None)
    if type(node) in _BINDERS and span is not None:
        yield Site(node.var, "bound", span, span, before=_BINDERS[type(node)])  # type: ignore[attr-defined]
    elif isinstance(node, A.Let):
        yield Site(node.name, "bound", node.span, _until_end(node.span, decl.span))
    elif isinstance(node, A.Labeled) and isinstance(decl, A.ProcessDecl):
        yield Site(node.label, "label", node.span, decl.span, decl.name)
    elif isinstance(node, A.EnumType):
        owner = decl.name if isinstance(decl, A.TypeDecl) and decl.type is node else None
        yield from (Site(m.name, "member", m.span, owner=owner, exact=True) for m in node.members)
    elif isinstance(node, A.RecordField):
        yield Site(node.name, "field", node.span)


def _decl_sites(decl: A.Decl) -> Iterator[Site]:
    """The names a top-level declaration declares: itself, its parameters, locals and index."""
    kind = _TOP_KIND.get(type(decl)) or ("property" if isinstance(decl, A.PropertyDecl) else None)
    if kind is None:
        return
    yield Site(decl.name, kind, decl.span)  # type: ignore[union-attr]
    for p in getattr(decl, "params", ()):
        yield Site(p.name, "parameter", p.span, decl.span)
    if isinstance(decl, A.ProcessDecl):
        if decl.index_var is not None:
            yield Site(decl.index_var, "index", decl.span, decl.span, before=r"\[\s*")
        yield from (Site(v.name, "local", v.span, decl.span, decl.name) for v in decl.locals)


def declarations(model: A.Model) -> list[Site]:
    """Every name `model` declares, in its own file and in the files it uses."""
    out: list[Site] = []
    for decl in model.decls:
        out.extend(_decl_sites(decl))
        for node in _within(decl):
            out.extend(_node_sites(node, decl))
    return out


def _offset(text: str, line: int, col: int) -> int:
    """The index in `text` of a 1-based line and column (lines end at "\\n", as the parser counts)."""
    lines = text.split("\n")
    line = min(max(line, 1), len(lines))
    return sum(len(x) + 1 for x in lines[:line - 1]) + min(max(col - 1, 0), len(lines[line - 1]))


def _position(text: str, offset: int) -> tuple[int, int]:
    head = text[:offset]
    line = head.count("\n") + 1
    return line, offset - (head.rfind("\n") + 1) + 1


def name_span(site: Site, sources: dict[str, str]) -> Span:
    """The span of the declared name itself, where its declaration's text shows it."""
    text = sources.get(site.where.path)
    if site.exact or text is None:
        return site.where
    start = _offset(text, site.where.line, site.where.col)
    end = _offset(text, site.where.end_line, site.where.end_col)
    m = re.compile(site.before + r"\b(" + re.escape(site.name) + r")\b").search(text, start, max(end, start))
    if m is None:
        return site.where
    line, col = _position(text, m.start(1))
    return Span(site.where.path, line, col, line, col + len(site.name))


# ------------------------------------------------------------- go to definition


def _contains(span: Span, path: str, line: int, col: int) -> bool:
    return span.path == path and (span.line, span.col) <= (line, col) <= (span.end_line, span.end_col)


def word_at(text: str, line: int, col: int) -> tuple[str, str, str] | None:
    """The name at a 1-based line and column (or just before it), with what qualifies it: the
    `.` or `@` before it and the name before that (`P` of `P[i]@top`; "" when it is not a plain
    name, as in `a[b[0]].x`), or ("", "")."""
    lines = text.split("\n")
    if not 1 <= line <= len(lines):
        return None
    s, i = lines[line - 1], col - 1
    word = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
    for m in word.finditer(s):
        if m.start() <= i <= m.end():
            head = s[:m.start()].rstrip()
            if head.endswith(("@", ".")) and not head.endswith(".."):
                owner = re.search(r"([A-Za-z_][A-Za-z_0-9]*)\s*(\[[^\]]*\])?\s*$", head[:-1])
                return m.group(), head[-1], owner.group(1) if owner else ""
            return m.group(), "", ""
    return None


def _qualified(sites: Sequence[Site], name: str, mark: str, owner: str) -> list[Site]:
    """`owner.name`: a local of process `owner`, a member of enum type `owner`, a label (`fair
    action P.top`), else a record's field; `owner@name`: a label of process `owner`."""
    kinds = ("label",) if mark == "@" else ("local", "member", "label")
    found = [s for s in sites if s.name == name and s.owner == owner and s.kind in kinds]
    if found:
        return found
    # an owner this cannot tell (`a[b[0]].x`, `procs[i]@top` of a process by another name)
    return [s for s in sites if s.name == name and s.kind == ("field" if mark == "." else "label")]


def resolve(sites: Sequence[Site], path: str, line: int, col: int, word: tuple[str, str, str]) -> list[Site]:
    """The declarations a name at `path` `line`:`col` refers to: the innermost bound name, parameter
    or local in scope there, else the top-level declarations of that name, else an enum member,
    else whatever declares that name."""
    name, mark, owner = word
    if mark:
        found = _qualified(sites, name, mark, owner)
        if found:
            return found
    scoped = [s for s in sites if s.name == name and s.scope is not None and s.kind not in _QUALIFIED_ONLY
              and _contains(s.scope, path, line, col)]
    if scoped:
        inner = max(scoped, key=lambda s: ((s.scope.line, s.scope.col),  # type: ignore[union-attr]
                                           (-s.scope.end_line, -s.scope.end_col)))  # type: ignore[union-attr]
        return [inner]
    for test in (lambda s: s.scope is None and s.kind not in _QUALIFIED_ONLY,
                 lambda s: s.kind == "member", lambda s: True):
        found = [s for s in sites if s.name == name and test(s)]
        if found:
            return found
    return []


def used_file(model: A.Model, path: str, line: int, col: int) -> Path | None:
    """The file a `use` at this spot names: a file beside the model or a vocabulary."""
    for d in model.decls:
        if isinstance(d, A.UseDecl) and _contains(d.span, path, line, col):
            if not d.is_file:
                return vocabulary_path(d.target)
            base = Path(path).parent if path != UNTITLED else Path(".")
            return base / d.target
    return None


def definition(analysis: Analysis, text: str, line: int, col: int) -> list[Span]:
    """Where the name at a 1-based line and column of `text` is declared (none, one or several)."""
    model = analysis.model or analysis.own
    if model is None:
        return []
    if analysis.own is not None:
        target = used_file(analysis.own, analysis.path, line, col)
        if target is not None:
            return [Span(str(target), 1, 1, 1, 1)]
    word = word_at(text, line, col)
    if word is None:
        return []
    sources = {**model.sources, analysis.path: analysis.text}
    return [name_span(s, sources) for s in resolve(declarations(model), analysis.path, line, col, word)]


# ------------------------------------------------------------------- LSP forms


def lsp_range(span: Span | None, lines: Sequence[str], codec: PositionCodec) -> T.Range:
    """A span (1-based, in characters) as an LSP range (0-based, in the client's code units)."""
    if span is None:
        return T.Range(T.Position(0, 0), T.Position(0, 0))

    def at(line: int, col: int) -> T.Position:
        row = min(max(line - 1, 0), max(len(lines) - 1, 0))
        char = min(max(col - 1, 0), len(lines[row]) if lines else 0)
        return codec.position_to_client_units(lines, ServerTextPosition(row, char))

    return T.Range(at(span.line, span.col), at(span.end_line, span.end_col))


def _uri(path: str, doc_uri: str, doc_path: str) -> str:
    if path == doc_path:
        return doc_uri
    return from_fs_path(os.path.abspath(path)) or doc_uri


def _lines_of(path: str, sources: dict[str, str]) -> list[str]:
    return sources.get(path, "").split("\n")


def _use_span(analysis: Analysis, path: str) -> Span | None:
    """Where the document brings in the file `path`: the `use` naming it, else its first `use`."""
    uses = [d for d in (analysis.own.decls if analysis.own else ()) if isinstance(d, A.UseDecl)]
    for d in uses:
        named = used_file(analysis.own, analysis.path, d.span.line, d.span.col)  # type: ignore[arg-type]
        if named is not None and os.path.abspath(named) == os.path.abspath(path):
            return d.span
    return uses[0].span if uses else None


def lsp_diagnostic(d: Diagnostic, analysis: Analysis, uri: str, codec: PositionCodec) -> T.Diagnostic:
    """One diagnostic for the document: one in a file it uses stands on the `use` that brings it
    in, with its own place as related information."""
    model = analysis.model or analysis.own
    sources = {**(model.sources if model else {}), analysis.path: analysis.text}
    lines = analysis.text.split("\n")
    message, span = d.message, d.span
    related = [(what, s) for what, s in d.related]
    if span is not None and span.path != analysis.path:
        related.insert(0, ("the error", span))
        message = f"in {span}: {message}"
        span = _use_span(analysis, span.path)
    if d.hint:
        message += f"\nhint: {d.hint}"
    info = [T.DiagnosticRelatedInformation(
        T.Location(_uri(s.path, uri, analysis.path), lsp_range(s, _lines_of(s.path, sources), codec)), what)
        for what, s in related]
    return T.Diagnostic(range=lsp_range(span, lines, codec), message=message, severity=T.DiagnosticSeverity.Error,
                        code=d.code, source="quiesce-check", related_information=info or None,
                        data={"hint": d.hint} if d.hint else None)


# ---------------------------------------------------------------------- server


def _version() -> str:
    try:
        return metadata.version("quiesce-check")
    except metadata.PackageNotFoundError:
        return "0"


def _path_of(uri: str) -> str:
    return (to_fs_path(uri) or UNTITLED) if uri.startswith("file:") else UNTITLED


@dataclass
class _Documents:
    """What the server knows of each open document: its last analysis whose text parsed (names are
    found in it, also while the text does not parse), and the check waiting to run; and the files
    documents use, kept parsed."""

    parsed: dict[str, Analysis] = field(default_factory=dict)
    pending: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    uses: UseCache = field(default_factory=UseCache)
    # one checking thread: the parser is shared, and a check at a time keeps the editor responsive
    worker: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(max_workers=1))


async def _refresh(ls: LanguageServer, docs: _Documents, uri: str, delay: float) -> None:
    """Check the document's current text after `delay` seconds and publish its diagnostics,
    unless it changed meanwhile (the check of the change publishes then)."""
    await asyncio.sleep(delay)
    doc = ls.workspace.text_documents.get(uri)
    if doc is None:
        return
    version, text = doc.version, doc.source
    try:
        analysis = await asyncio.get_running_loop().run_in_executor(docs.worker, analyse, text, _path_of(uri),
                                                                   docs.uses)
    except Exception as e:  # noqa: BLE001 - a bug in a stage must not stop the server: the editor says it
        ls.window_log_message(T.LogMessageParams(T.MessageType.Error, f"quiesce-check could not check {uri}: "
                                                 f"{type(e).__name__}: {e}"))
        return
    current = ls.workspace.text_documents.get(uri)
    if current is None or current.version != version:
        return
    if analysis.own is not None:
        docs.parsed[uri] = analysis
    codec = ls.workspace.position_codec
    diagnostics = [lsp_diagnostic(d, analysis, uri, codec) for d in analysis.diagnostics]
    ls.text_document_publish_diagnostics(T.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=version))


def _schedule(ls: LanguageServer, docs: _Documents, uri: str, delay: float) -> None:
    old = docs.pending.pop(uri, None)
    if old is not None:
        old.cancel()
    docs.pending[uri] = asyncio.get_running_loop().create_task(_refresh(ls, docs, uri, delay))


def _definition(ls: LanguageServer, docs: _Documents, params: T.DefinitionParams) -> list[T.Location]:
    uri = params.text_document.uri
    analysis = docs.parsed.get(uri)
    if analysis is None:
        return []
    text = ls.workspace.get_text_document(uri).source
    lines = text.split("\n")
    at = ls.workspace.position_codec.position_from_client_units(lines, params.position)
    model = analysis.model or analysis.own
    sources = {**(model.sources if model else {}), analysis.path: text}
    out = []
    for span in definition(analysis, text, at.line + 1, at.character + 1):
        target_lines = sources[span.path].split("\n") if span.path in sources else [""]
        out.append(T.Location(_uri(span.path, uri, analysis.path),
                              lsp_range(span, target_lines, ls.workspace.position_codec)))
    return out


def make_server() -> LanguageServer:
    """A language server with QDL's features, not yet started."""
    ls = LanguageServer("quiesce-check", _version())
    docs = _Documents()

    @ls.feature(T.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(ls: LanguageServer, params: T.DidOpenTextDocumentParams) -> None:
        _schedule(ls, docs, params.text_document.uri, 0)

    @ls.feature(T.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(ls: LanguageServer, params: T.DidChangeTextDocumentParams) -> None:
        _schedule(ls, docs, params.text_document.uri, DEBOUNCE)

    @ls.feature(T.TEXT_DOCUMENT_DID_SAVE)
    async def did_save(ls: LanguageServer, params: T.DidSaveTextDocumentParams) -> None:
        _schedule(ls, docs, params.text_document.uri, 0)

    @ls.feature(T.TEXT_DOCUMENT_DID_CLOSE)
    async def did_close(ls: LanguageServer, params: T.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        task = docs.pending.pop(uri, None)
        if task is not None:
            task.cancel()
        docs.parsed.pop(uri, None)
        ls.text_document_publish_diagnostics(T.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    @ls.feature(T.TEXT_DOCUMENT_DEFINITION)
    def goto_definition(ls: LanguageServer, params: T.DefinitionParams) -> list[T.Location]:
        return _definition(ls, docs, params)

    return ls


def serve() -> int:
    """Speak LSP on standard input and output until the client says `exit`."""
    make_server().start_io()
    return 0
