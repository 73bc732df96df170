"""`quiesce-check lsp` over its protocol: diagnostics with their ranges as a document opens and
changes, none for a valid model, go-to-definition for every kind of declaration, a clean exit.

Expected positions are found in the test's own text (where the offending or declaring word
stands), never copied from the server's answers."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

pytest.importorskip("pygls")

from tests.editors.lsp_client import Client  # noqa: E402 - only once pygls is known to be there

MODEL = """\
type Phase = enum {Idle, Busy};
const LIMIT = 2;
var hits: 0..3 = 0;
var phase: Phase = Idle;
def below(n: 0..3) = n < LIMIT;
proc bump() { hits := hits + 1; }
process Worker[w in 0..1] {
    var mine: bool = false;
    start: await below(hits);
    bump();
    mine := forall k in 0..1: k >= w;
    atomic { let got = {v for v in 0..1 where v == w}; mine := w in got; }
    phase := Phase.Busy;
}
action reset(to in 0..1) when finished(Worker) { hits := to; }
invariant capped: hits <= 3 or (Worker[0]@start or not Worker[1].mine);
"""


def position(text: str, needle: str, word: str) -> tuple[int, int]:
    """The 0-based line and UTF-16 column of `word` (the first whole word) inside the one line
    holding `needle`."""
    rows = [k for k, line in enumerate(text.split("\n")) if needle in line]
    assert len(rows) == 1, (needle, rows)
    line = text.split("\n")[rows[0]]
    pattern = re.escape(word)
    if word.isidentifier():  # a name, not the same letters inside a longer one
        pattern = rf"(?<![A-Za-z_0-9]){pattern}(?![A-Za-z_0-9])"
    inside = re.search(pattern, needle)
    assert inside, (needle, word)
    col = line.index(needle) + inside.start()
    return rows[0], len(line[:col].encode("utf-16-le")) // 2


def word_range(text: str, needle: str, word: str) -> dict[str, Any]:
    line, col = position(text, needle, word)
    return {"start": {"line": line, "character": col}, "end": {"line": line, "character": col + len(word)}}


def doc(uri: str, text: str, version: int = 1) -> dict[str, Any]:
    return {"textDocument": {"uri": uri, "languageId": "qdl", "version": version, "text": text}}


@pytest.fixture(scope="module")
def server() -> Iterator[Client]:
    client = Client("--stdio")
    try:
        client.initialize()
        yield client
    finally:
        client.kill()


def diagnostics(server: Client, uri: str, version: int | None = None) -> list[dict[str, Any]]:
    params = server.notification("textDocument/publishDiagnostics",
                                 lambda p: p["uri"] == uri and (version is None or p.get("version") == version))
    return params["diagnostics"]


def test_the_server_says_what_it_offers(server: Client) -> None:
    caps = server.capabilities
    assert caps["definitionProvider"] is True
    assert caps["textDocumentSync"]["openClose"] is True


def test_a_valid_model_has_no_diagnostics(server: Client, tmp_path: Path) -> None:
    uri = (tmp_path / "valid.qdl").as_uri()
    server.notify("textDocument/didOpen", doc(uri, MODEL))
    assert diagnostics(server, uri) == []


def test_an_unknown_name_is_reported_at_its_range_with_its_hint(server: Client, tmp_path: Path) -> None:
    text = "var total: 0..3 = 0;\nprocess P {\n    total := totl + 1;\n}\n"
    uri = (tmp_path / "unknown.qdl").as_uri()
    server.notify("textDocument/didOpen", doc(uri, text))
    [d] = diagnostics(server, uri)
    assert d["code"] == "E011" and d["severity"] == 1 and d["source"] == "quiesce-check"
    assert d["range"] == word_range(text, "totl + 1", "totl")
    assert "`total`" in d["data"]["hint"] and d["data"]["hint"] in d["message"]


def test_a_syntax_error_is_reported_where_the_parse_stops(server: Client, tmp_path: Path) -> None:
    text = "var x: 0..3 = 0;\nprocess P {\n    x := ;\n}\n"
    uri = (tmp_path / "syntax.qdl").as_uri()
    server.notify("textDocument/didOpen", doc(uri, text))
    [d] = diagnostics(server, uri)
    assert d["code"] == "E001"
    assert d["range"]["start"] == word_range(text, "x := ;", ";")["start"]


def test_columns_are_counted_in_utf16_units(server: Client, tmp_path: Path) -> None:
    """An emoji is two UTF-16 units (the protocol's default) but one character to the parser."""
    text = "var x: 0..3 = 0; /* \U0001F600 é */ process P { x := nowhere; }\n"
    uri = (tmp_path / "wide.qdl").as_uri()
    server.notify("textDocument/didOpen", doc(uri, text))
    [d] = diagnostics(server, uri)
    assert d["code"] == "E011"
    assert d["range"] == word_range(text, "nowhere;", "nowhere")
    assert d["range"]["start"]["character"] == text.index("nowhere") + 1


def test_diagnostics_follow_the_text_as_it_is_typed(server: Client, tmp_path: Path) -> None:
    uri = (tmp_path / "typed.qdl").as_uri()
    server.notify("textDocument/didOpen", doc(uri, MODEL))
    assert diagnostics(server, uri, 1) == []
    # `hits := to;` becomes `hits := tox;`: an edit of one character, sent as an incremental change
    line, col = position(MODEL, "hits := to;", ";")
    at = {"line": line, "character": col}
    server.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                             "contentChanges": [{"range": {"start": at, "end": at}, "text": "x"}]})
    [d] = diagnostics(server, uri, 2)
    assert d["code"] == "E011"
    edited = MODEL.replace("hits := to;", "hits := tox;")
    assert d["range"] == word_range(edited, "hits := tox;", "tox")
    server.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 3},
                                             "contentChanges": [{"text": MODEL}]})
    assert diagnostics(server, uri, 3) == []
    server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    assert diagnostics(server, uri) == []


# (where the name is used, the name) -> (where it is declared, the name there)
DEFINITIONS = [
    (("hits := hits + 1", "hits"), ("var hits", "hits")),                # a global variable
    (("await below(hits)", "below"), ("def below", "below")),           # a def
    (("= n < LIMIT", "n"), ("below(n", "n")),                           # a def's parameter
    (("n < LIMIT", "LIMIT"), ("const LIMIT", "LIMIT")),                 # a constant
    (("bump();", "bump"), ("proc bump", "bump")),                       # a proc
    (("k >= w", "k"), ("forall k", "k")),                               # a bound name
    (("k >= w", "w"), ("Worker[w", "w")),                               # a process's index
    (("v == w", "v"), ("for v in", "v")),                               # a set map's name, after its body
    (("w in got", "got"), ("let got", "got")),                          # a `let`
    (("var phase: Phase", "Phase"), ("type Phase", "Phase")),           # a type
    (("Phase = Idle;", "Idle"), ("{Idle", "Idle")),                     # an enum member
    (("Phase.Busy", "Busy"), ("Idle, Busy", "Busy")),                   # a member named by its type
    (("mine := forall", "mine"), ("var mine", "mine")),                 # a process's local
    (("Worker[1].mine", "mine"), ("var mine", "mine")),                 # a local named by its process
    (("@start", "start"), ("start: await", "start")),                   # a label
    (("finished(Worker)", "Worker"), ("process Worker", "Worker")),     # a process
    (("hits := to;", "to"), ("reset(to", "to")),                        # an action's parameter
    (("not Worker[1]", "Worker"), ("process Worker", "Worker")),
]


@pytest.fixture(scope="module")
def opened(server: Client, tmp_path_factory: pytest.TempPathFactory) -> str:
    uri = (tmp_path_factory.mktemp("defs") / "model.qdl").as_uri()
    server.notify("textDocument/didOpen", doc(uri, MODEL))
    assert diagnostics(server, uri) == []
    return uri


@pytest.mark.parametrize(("used", "declared"), DEFINITIONS, ids=[f"{u[1]}@{u[0]}" for u, _ in DEFINITIONS])
def test_definition_of_a_name(server: Client, opened: str, used: tuple[str, str],
                              declared: tuple[str, str]) -> None:
    line, col = position(MODEL, *used)
    # anywhere inside the name, its last character included
    for k in (0, len(used[1]) - 1):
        result = server.request("textDocument/definition", {"textDocument": {"uri": opened},
                                                             "position": {"line": line, "character": col + k}})
        assert result == [{"uri": opened, "range": word_range(MODEL, *declared)}]


def test_no_definition_where_no_name_stands(server: Client, opened: str) -> None:
    line, col = position(MODEL, "0..3 = 0;", "=")
    result = server.request("textDocument/definition", {"textDocument": {"uri": opened},
                                                         "position": {"line": line, "character": col}})
    assert result in (None, [])


def test_definition_and_diagnostics_reach_into_a_used_file(server: Client, tmp_path: Path) -> None:
    lib = "const SIZE = 2;\nvar level: 0..SIZE = 0;\n"
    (tmp_path / "lib.qdl").write_text(lib)
    broken = "const SIZE = 2;\nvar level: 0..SIZE = nothere;\n"
    (tmp_path / "broken.qdl").write_text(broken)
    text = 'use "lib.qdl";\nprocess P { level := SIZE; }\n'
    uri = (tmp_path / "main.qdl").as_uri()
    server.notify("textDocument/didOpen", doc(uri, text))
    assert diagnostics(server, uri) == []
    line, col = position(text, ":= SIZE", "SIZE")
    result = server.request("textDocument/definition", {"textDocument": {"uri": uri},
                                                         "position": {"line": line, "character": col}})
    assert result == [{"uri": (tmp_path / "lib.qdl").as_uri(), "range": word_range(lib, "const SIZE", "SIZE")}]
    start = {"line": 0, "character": 0}
    assert definitions_at(server, uri, text, ('"lib.qdl"', "lib")) == [
        {"uri": (tmp_path / "lib.qdl").as_uri(), "range": {"start": start, "end": start}}]

    # an error in the used file stands on the `use` that brings it in, and points at its place
    other = "// the library\nuse \"broken.qdl\";\nprocess P { level := SIZE; }\n"
    uri2 = (tmp_path / "main2.qdl").as_uri()
    server.notify("textDocument/didOpen", doc(uri2, other))
    [d] = diagnostics(server, uri2)
    assert d["code"] == "E011"
    assert d["range"] == word_range(other, 'use "broken.qdl";', 'use "broken.qdl";')
    assert d["relatedInformation"][0]["location"] == {"uri": (tmp_path / "broken.qdl").as_uri(),
                                                      "range": word_range(broken, "nothere", "nothere")}


RECORDS = """\
param TOP = 1;
type Req = record {id: 0..1, done: bool};
var req: Req = {id: 0, done: false};
var pick: 0..TOP = 0;
process Server {
    serve: req.done := true;
    pick := choose c in 0..1 where c >= req.id;
}
action reopen when req.done { req.done := false; }
fair action Server.serve;
strong fair action reopen;
liveness answered(r in 0..1): r == req.id ~> req.done;
"""

MORE_DEFINITIONS = [
    (("serve: req.done", "done"), ("done: bool", "done")),             # a record's field
    (("c >= req.id", "c"), ("choose c", "c")),                         # a name `choose` binds
    (("Server.serve;", "serve"), ("serve: req", "serve")),             # a label a fairness names
    (("r == req.id", "r"), ("answered(r", "r")),                       # a liveness parameter
    (("var req: Req", "Req"), ("type Req", "Req")),
    (("0..TOP", "TOP"), ("param TOP", "TOP")),                         # a parameter
    (("fair action reopen", "reopen"), ("action reopen when", "reopen")),   # an action
]


def definitions_at(server: Client, uri: str, text: str, used: tuple[str, str]) -> Any:
    line, col = position(text, *used)
    return server.request("textDocument/definition", {"textDocument": {"uri": uri},
                                                      "position": {"line": line, "character": col}})


def test_definitions_hold_while_the_text_does_not_parse(server: Client, tmp_path: Path) -> None:
    uri = (tmp_path / "records.qdl").as_uri()
    server.notify("textDocument/didOpen", doc(uri, RECORDS))
    assert diagnostics(server, uri) == []
    for used, declared in MORE_DEFINITIONS:
        assert definitions_at(server, uri, RECORDS, used) == [{"uri": uri, "range": word_range(RECORDS, *declared)}]
    # typing on at the end: the text no longer parses, its names are those it last had
    typing = RECORDS + "invariant half: req.\n"
    server.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                             "contentChanges": [{"text": typing}]})
    assert [d["code"] for d in diagnostics(server, uri, 2)] in (["E001"], ["E002"])
    used, declared = MORE_DEFINITIONS[1]
    assert definitions_at(server, uri, typing, used) == [{"uri": uri, "range": word_range(RECORDS, *declared)}]


def test_a_name_declared_twice_points_at_its_first_declaration(server: Client, tmp_path: Path) -> None:
    text = "var flag: bool = false;\nprocess P { flag := true; }\nvar flag: bool = true;\n"
    uri = (tmp_path / "twice.qdl").as_uri()
    server.notify("textDocument/didOpen", doc(uri, text))
    [d] = diagnostics(server, uri)
    assert d["code"] == "E010"
    assert d["range"]["start"] == word_range(text, "var flag: bool = true;", "var")["start"]
    first = word_range(text, "var flag: bool = false;", "var flag: bool = false;")
    assert [r["location"] for r in d["relatedInformation"]] == [{"uri": uri, "range": first}]


SPEC = """\
// a hook spec: its names (ready, Backend, may_read_final) are the model's it is composed with
hook quiesce: "stop, then acknowledge" at ready binds Backend;
obligation ack: "the hook acknowledges once it is done";
var acked: bool = false;
override def may_read_final = not ack or acked;
"""


def test_a_hook_spec_is_only_parsed(server: Client, tmp_path: Path) -> None:
    """A spec's names are its model's: alone, only its syntax can be judged."""
    uri = (tmp_path / "spec.qdl").as_uri()
    server.notify("textDocument/didOpen", doc(uri, SPEC))
    assert diagnostics(server, uri) == []
    broken = SPEC.replace("var acked: bool = false;", "var acked: bool = ;")
    server.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                             "contentChanges": [{"text": broken}]})
    [d] = diagnostics(server, uri, 2)
    assert d["code"] == "E001"
    assert d["range"]["start"] == word_range(broken, "bool = ;", ";")["start"]


def test_an_unsaved_buffer_is_checked_too(server: Client) -> None:
    uri = "untitled:Untitled-1"
    text = "var x: bool = false;\nprocess P { x := y; }\n"
    server.notify("textDocument/didOpen", doc(uri, text))
    [d] = diagnostics(server, uri)
    assert d["code"] == "E011" and d["range"] == word_range(text, "x := y", "y")


def test_the_server_exits_cleanly_when_asked() -> None:
    client = Client()
    try:
        client.initialize()
        assert client.close() == 0
    finally:
        client.kill()


def test_the_server_ends_when_its_editor_goes_away() -> None:
    """An editor that dies closes the server's input: no server is left behind."""
    client = Client()
    try:
        client.initialize()
        assert client.proc.stdin is not None
        client.proc.stdin.close()
        client.proc.wait(timeout=60)
    finally:
        client.kill()


def test_the_checker_never_compiles_what_it_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server parses and checks: lowering and compiling (where model code becomes code that
    runs) are never reached."""
    from quiesce_check import build, lsp

    def refuse(*args: object) -> None:
        raise AssertionError("the language server reached a later stage")

    for stage in ("lower", "compile_program", "check_expansion", "check_size"):
        monkeypatch.setattr(build, stage, refuse)
    assert lsp.analyse(MODEL, "model.qdl").diagnostics == ()
    assert [d.code for d in lsp.analyse(MODEL.replace("hits := to;", "hits := tox;"), "m.qdl").diagnostics] == ["E011"]


def test_without_pygls_the_command_says_what_to_install() -> None:
    script = ("import sys\nsys.modules['pygls'] = None\nsys.modules['lsprotocol'] = None\n"
              "from quiesce_check.cli import main\nsys.exit(main(['lsp']))")
    r = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 151
    assert "quiesce-check[lsp]" in r.stderr and "Traceback" not in r.stderr


def test_a_used_file_is_parsed_again_only_when_it_changes(tmp_path: Path) -> None:
    from quiesce_check.lsp import UseCache, analyse

    (tmp_path / "lib.qdl").write_text("const SIZE = 2;\nvar level: 0..SIZE = 0;\n")
    main = str(tmp_path / "main.qdl")
    text = 'use "lib.qdl";\nuse xen;\nprocess P { level := SIZE; }\n'
    uses = UseCache()
    assert analyse(text, main, uses).diagnostics == ()
    kept = dict(uses.loaded)
    assert len(kept) == 2  # the file and the vocabulary
    assert analyse(text, main, uses).diagnostics == ()
    assert all(uses.loaded[k] is v for k, v in kept.items())
    (tmp_path / "lib.qdl").write_text("const SIZE = 2;\nvar level: 0..SIZE = nothere;\n")
    [d] = analyse(text, main, uses).diagnostics
    assert d.code == "E011" and d.span is not None and d.span.path == str(tmp_path / "lib.qdl")
