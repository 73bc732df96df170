"""What a hostile file system or model must not achieve: writing through a planted link, a
truncated output on a full disk, a verdict hidden by a failed write, a `use` that quotes a file
that is not a model, escape sequences reaching the terminal or ill-formed JUnit, and two runs
sharing one checkpoint folder.

Every case runs the real command line and holds it to the README's contract (`assert_polite`).
"""

from __future__ import annotations

import fcntl
import json
import os
import resource
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.cli.fuzzing import assert_polite, run_cli, write_model
from tests.conftest import ROOT

# x reaches 3; `small` says it never passes 1: violated in two steps (exit 12)
VIOLATED = "var x: 0..3 = 0;\naction inc when x < 3 { x := x + 1; }\ninvariant small: x < 2;\nterminal done: x == 3;\n"
VICTIM = "the victim's own text\n"
HANDSHAKE = ROOT / "specs" / "hooks" / "s15_handshake.qdl"
V2 = ROOT / "models" / "v2_blkfront_blkback.qdl"


def victim(tmp_path: Path, name: str = "victim.txt") -> Path:
    v = tmp_path / name
    v.write_text(VICTIM)
    return v


def link(at: Path, to: Path) -> Path:
    at.symlink_to(to)
    return at


def manifest(tmp_path: Path, name: str = "m") -> Path:
    write_model(tmp_path, VIOLATED, "v.qdl")
    p = tmp_path / "regress.toml"
    p.write_text(f'[[run]]\nname = {json.dumps(name)}\nmodel = "v.qdl"\nexpect = {{ small = "violated" }}\n')
    return p


# --- writes never follow links ------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--json", "--itf", "--html"])
def test_check_outputs_replace_a_planted_link_not_its_target(tmp_path: Path, flag: str) -> None:
    v = victim(tmp_path)
    out = link(tmp_path / "out", v)
    model = write_model(tmp_path, VIOLATED, "m.qdl")
    r = run_cli(["check", model, flag, out, "--backend", "python"])
    assert_polite(r)
    assert r.code == 12, r.err
    assert v.read_text() == VICTIM
    assert not out.is_symlink() and out.stat().st_size > 0
    if flag != "--html":
        json.loads(out.read_text())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.qdl", "out", "victim.txt"]  # no temporary left


@pytest.mark.parametrize("flag", ["--json", "--junit"])
def test_regress_outputs_replace_a_planted_link(tmp_path: Path, flag: str) -> None:
    v = victim(tmp_path)
    out = link(tmp_path / "out", v)
    r = run_cli(["regress", manifest(tmp_path), flag, out])
    assert_polite(r)
    assert r.code == 0, r.out + r.err
    assert v.read_text() == VICTIM and not out.is_symlink() and out.stat().st_size > 0


@pytest.mark.parametrize("flag", ["--json", "--html"])
def test_hook_outputs_replace_a_planted_link(tmp_path: Path, flag: str) -> None:
    v = victim(tmp_path)
    out = link(tmp_path / "out", v)
    r = run_cli(["hook", HANDSHAKE, "--model", V2, "--param", "NREQS=1", "--without", "stop", "--no-coverage",
                 "--backend", "python", flag, out])
    assert_polite(r)
    assert r.code == 12, r.out + r.err
    assert v.read_text() == VICTIM and not out.is_symlink() and out.stat().st_size > 0


def test_checkpoint_files_never_follow_planted_links(tmp_path: Path) -> None:
    # the names the writer used: its temporary file and its probe, both with this process's id
    d = tmp_path / "ck"
    d.mkdir()
    victims = [victim(tmp_path, f"victim{k}.txt") for k in range(3)]
    link(d / f".checkpoint.qcc.{os.getpid()}.tmp", victims[0])
    link(d / f".probe.{os.getpid()}", victims[1])
    link(d / ".checkpoint.qcc.1.tmp", victims[2])  # a stale temporary of another run
    model = write_model(tmp_path, VIOLATED, "m.qdl")
    for backend in ("python", "auto"):
        r = run_cli(["check", model, "--checkpoint", d, "--max-states", "2", "--backend", backend])
        assert_polite(r)
        assert r.code == 20, r.out + r.err
        assert all(v.read_text() == VICTIM for v in victims)
        link(d / f".checkpoint.qcc.{os.getpid()}.tmp", victims[0])
        r = run_cli(["resume", d, "--backend", backend])
        assert_polite(r)
        assert r.code == 12, r.out + r.err
        assert all(v.read_text() == VICTIM for v in victims)
        assert not (d / "checkpoint.qcc").is_symlink()
        (d / "checkpoint.qcc").unlink()


def test_a_checkpoint_that_is_a_link_is_replaced_not_written_through(tmp_path: Path) -> None:
    d = tmp_path / "ck"
    d.mkdir()
    model = write_model(tmp_path, VIOLATED, "m.qdl")
    r = run_cli(["check", model, "--checkpoint", d, "--max-states", "2", "--backend", "python"])
    assert r.code == 20
    v = victim(tmp_path)
    saved = tmp_path / "saved.qcc"
    os.replace(d / "checkpoint.qcc", saved)
    link(d / "checkpoint.qcc", saved)
    before = saved.read_bytes()
    r = run_cli(["resume", d, "--backend", "python"])
    assert_polite(r)
    assert r.code == 12 and saved.read_bytes() == before and v.read_text() == VICTIM
    assert not (d / "checkpoint.qcc").is_symlink()


def _limited(limit: int) -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG), as on a full disk
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def _cli_limited(args: list[str], cwd: Path, limit: int) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "quiesce_check", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, preexec_fn=lambda: _limited(limit))


@pytest.mark.parametrize("flag", ["--json", "--html"])
def test_a_failed_write_leaves_the_old_file_and_keeps_the_verdict(tmp_path: Path, flag: str) -> None:
    model = write_model(tmp_path, VIOLATED, "m.qdl")
    out = tmp_path / "out"
    out.write_text("old")
    r = _cli_limited(["check", str(model), flag, str(out), "--backend", "python"], tmp_path, 600)
    assert "Traceback" not in r.stdout + r.stderr
    assert r.returncode == 12, r.stdout + r.stderr
    assert out.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.qdl", "out"]
    assert f"cannot write {out}" in r.stderr and "violated (exit 12)" in r.stderr


def test_a_failed_write_after_holds_is_an_error(tmp_path: Path) -> None:
    model = write_model(tmp_path, VIOLATED.replace("x < 2", "x <= 3"), "m.qdl")
    r = _cli_limited(["check", str(model), "--json", str(tmp_path / "out"), "--backend", "python"], tmp_path, 300)
    assert r.returncode == 151, r.stdout + r.stderr
    assert "cannot write" in r.stderr and "holds" in r.stderr
    assert not (tmp_path / "out").exists()


# --- `use` of a link to something that is not a model ---------------------------------------


@pytest.mark.parametrize("to", ["secret.txt", "secret", "sub/secret.conf"])
def test_a_use_through_a_link_to_a_file_that_is_not_a_model(tmp_path: Path, to: str) -> None:
    secret = tmp_path / to
    secret.parent.mkdir(exist_ok=True)
    secret.write_text("TOPSECRET: root:x:0:0\n")
    link(tmp_path / "lib.qdl", secret)
    text = 'use "lib.qdl";\nvar x: 0..1 = 0;\naction a { x := 1; }\n'
    model = write_model(tmp_path, text, "m.qdl")
    r = run_cli(["check", model])
    assert_polite(r, str(model), text)
    assert r.code == 150 and f"{model}:1:" in r.err and "error[E014]" in r.err
    assert "TOPSECRET" not in r.out + r.err


def test_a_use_through_a_link_to_a_model_is_read(tmp_path: Path) -> None:
    (tmp_path / "real.qdl").write_text("var y: 0..1 = 0;\n")
    link(tmp_path / "lib.qdl", tmp_path / "real.qdl")
    model = write_model(tmp_path, 'use "lib.qdl";\nvar x: 0..1 = 0;\naction a { x := 1; y := 1; }\n', "m.qdl")
    r = run_cli(["check", model, "--no-deadlock", "--backend", "python"])
    assert r.code == 0, r.err


# --- control characters are shown escaped ---------------------------------------------------

ESC = "\x1b[2J\x1b[H\x1b[32mVerdict: holds (exit 0)\x1b[0m\x07\x9b"


def _escaped(r_text: str) -> bool:
    return not any(c in r_text for c in "\x1b\x07\x9b") and "\\x1b" in r_text


@pytest.mark.parametrize("where", ["comment", "use-path", "statement-comment", "file-name", "param"])
def test_control_characters_reach_the_terminal_escaped(tmp_path: Path, where: str) -> None:
    name = "m.qdl"
    extra: list[str] = []
    if where == "comment":
        text = f"var x: 0..3 = y; // {ESC}\n"
    elif where == "use-path":
        text = f'use "{ESC}.qdl";\nvar x: 0..3 = 0;\n'
    elif where == "statement-comment":
        text = f"var x: 0..3 = 0;\nprocess P {{ while x < 3 {{ x := x /* {ESC} */ + 1; }} }}\ninvariant small: x < 2;\n"
    elif where == "file-name":
        name = f"m{ESC.replace('/', '')}.qdl"
        text = "var x: 0..3 = y;\n"
    else:
        text = VIOLATED
        extra = ["--param", f"N{ESC}=1"]
    model = write_model(tmp_path, text, name)
    r = run_cli(["check", model, "--backend", "python", *extra])
    assert r.code in (12, 150, 151), r.out + r.err
    assert _escaped(r.out + r.err), repr(r.out + r.err)


def test_hook_spec_strings_are_escaped(tmp_path: Path) -> None:
    spec = HANDSHAKE.read_text()
    first = spec.index('"')
    hostile = spec[:first + 1] + ESC + spec[first + 1:]
    path = write_model(tmp_path, hostile, "spec.qdl")
    r = run_cli(["hook", path, "--model", V2, "--param", "NREQS=1", "--no-coverage", "--backend", "python",
                 "--max-states", "10"])
    assert_polite(r)
    assert _escaped(r.out + r.err), repr(r.out[:2000])


def test_junit_stays_well_formed_with_control_characters_in_a_run_name(tmp_path: Path) -> None:
    out = tmp_path / "junit.xml"
    r = run_cli(["regress", manifest(tmp_path, f"run\x01{ESC}"), "--junit", out])
    assert r.code == 0, r.out + r.err
    root = ET.fromstring(out.read_text())
    (suite,) = root.iter("testsuite")
    assert suite.get("name", "").startswith("run\\x01\\x1b")   # the run's name, escaped
    (case,) = root.iter("testcase")
    assert case.get("classname", "").isascii() and case.get("classname", "").replace(".", "_").isidentifier()
    assert _escaped(r.out + r.err)


# --- one run at a time on a checkpoint folder -------------------------------------------------


def _hold(d: Path) -> int:
    fd = os.open(d / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def test_a_second_run_on_a_checkpoint_folder_is_refused(tmp_path: Path) -> None:
    d = tmp_path / "ck"
    model = write_model(tmp_path, VIOLATED, "m.qdl")
    r = run_cli(["check", model, "--checkpoint", d, "--max-states", "2", "--backend", "python"])
    assert r.code == 20, r.out + r.err
    before = (d / "checkpoint.qcc").read_bytes()
    fd = _hold(d)  # another run holds the folder
    try:
        r = run_cli(["resume", d, "--backend", "python"])
        assert_polite(r)
        assert r.code == 151 and "in use by another run" in r.err, r.out + r.err
        assert (d / "checkpoint.qcc").read_bytes() == before
        other = tmp_path / "ck2"
        other.mkdir()
        os.close(fd)
        fd = _hold(other)
        r = run_cli(["check", model, "--checkpoint", other, "--backend", "python"])
        assert r.code == 151 and "in use by another run" in r.err, r.out + r.err
        assert not (other / "checkpoint.qcc").exists()
        fresh = tmp_path / "ck3"
        r = run_cli(["check", model, "--checkpoint", fresh, "--max-states", "2", "--backend", "python"])
        assert r.code == 20 and os.stat(fresh).st_mode & 0o777 == 0o700  # a new folder is the user's only
    finally:
        os.close(fd)
    r = run_cli(["resume", d, "--backend", "python"])
    assert r.code == 12, r.out + r.err


def test_a_lock_file_that_is_a_link_is_refused(tmp_path: Path) -> None:
    d = tmp_path / "ck"
    d.mkdir()
    v = victim(tmp_path)
    link(d / ".lock", v)
    model = write_model(tmp_path, VIOLATED, "m.qdl")
    r = run_cli(["check", model, "--checkpoint", d, "--backend", "python"])
    assert_polite(r)
    assert r.code == 151 and ".lock" in r.err, r.out + r.err
    assert v.read_text() == VICTIM


# --- streams are written as they are, other special files never replaced -------------------


def test_dev_null_and_stdout_are_written_not_replaced(tmp_path: Path) -> None:
    model = write_model(tmp_path, VIOLATED, "m.qdl")
    before = os.lstat("/dev/null")
    r = subprocess.run([sys.executable, "-m", "quiesce_check", "check", str(model), "--backend", "python",
                        "--no-coverage", "--json", "/dev/null", "--itf", "/dev/stdout"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 12, r.stdout + r.stderr
    after = os.lstat("/dev/null")
    assert (after.st_mode, after.st_rdev, after.st_ino) == (before.st_mode, before.st_rdev, before.st_ino)
    assert os.path.islink("/dev/stdout")
    assert '"#meta"' in r.stdout  # the trace went to stdout, after the report


def test_a_pipe_is_written_and_a_socket_refused(tmp_path: Path) -> None:
    import socket
    import threading

    model = write_model(tmp_path, VIOLATED, "m.qdl")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    r = run_cli(["check", model, "--backend", "python", "--json", fifo])
    reader.join(30)
    assert r.code == 12, r.err
    assert json.loads(got[0])["exit_code"] == 12 and stat_kind(fifo) == "fifo"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "sock"))
    try:
        r = run_cli(["check", model, "--backend", "python", "--json", tmp_path / "sock"])
        assert_polite(r)
        assert r.code == 12 and "cannot write" in r.err and stat_kind(tmp_path / "sock") == "socket", r.err
    finally:
        sock.close()


def test_a_link_to_dev_null_planted_by_another_user_is_replaced(tmp_path: Path) -> None:
    model = write_model(tmp_path, VIOLATED, "m.qdl")
    out = link(tmp_path / "out.json", Path("/dev/null"))
    os.lchown(out, 65534, 65534)
    r = run_cli(["check", model, "--backend", "python", "--json", out])
    assert r.code == 12 and stat_kind(out) == "file" and json.loads(out.read_text())["exit_code"] == 12


def stat_kind(path: Path) -> str:
    import stat

    mode = os.lstat(path).st_mode
    return "fifo" if stat.S_ISFIFO(mode) else "socket" if stat.S_ISSOCK(mode) else \
        "file" if stat.S_ISREG(mode) else "other"
