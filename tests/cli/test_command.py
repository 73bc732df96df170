"""The entry point answers an interrupt however early or late it comes."""

from __future__ import annotations

import builtins
import signal
import sys
from collections.abc import Iterator

import pytest

from quiesce_check import cli, command
from quiesce_check.engines.result import EXIT_CODES, Verdict


@pytest.fixture(autouse=True)
def signals_kept() -> Iterator[None]:
    """`run` sets SIGPIPE, SIGINT and SIGTERM for the process it ends; this one goes on (and the
    processes the other tests start inherit an ignored signal)."""
    kept = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGPIPE, signal.SIGTERM)}
    yield
    for sig, handler in kept.items():
        signal.signal(sig, handler)


def test_the_interrupt_code_is_the_incomplete_verdicts() -> None:
    assert EXIT_CODES[Verdict.INCOMPLETE] == command.EXIT_INTERRUPTED


def test_ctrl_c_while_the_tool_imports(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    real_import = builtins.__import__

    def interrupted(name: str, *args: object, **kwargs: object) -> object:
        if name == "quiesce_check.cli":
            raise KeyboardInterrupt
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.delitem(sys.modules, "quiesce_check.cli")
    monkeypatch.setattr(builtins, "__import__", interrupted)
    with pytest.raises(SystemExit) as stopped:
        command.run()
    assert stopped.value.code == 20
    assert capsys.readouterr().err == "interrupted\n"


def test_ctrl_c_as_the_result_is_returned(monkeypatch: pytest.MonkeyPatch) -> None:
    def late(argv: object = None) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "main", late)
    with pytest.raises(SystemExit) as stopped:
        command.run()
    assert stopped.value.code == 20


def test_the_exit_code_is_mains(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "main", lambda argv=None: 12)
    with pytest.raises(SystemExit) as stopped:
        command.run()
    assert stopped.value.code == 12
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN  # the result is out: Ctrl-C changes nothing
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN  # nor does SIGTERM
