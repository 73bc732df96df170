"""Ctrl-C (or SIGTERM) during a search, as a request honoured between two steps of it.

Takes nothing; gives `Interrupts`, a context in which the first SIGINT or SIGTERM only sets a
flag that an engine checks between two expansions, so the search stops in a state it can
report and save exactly (a second one stops it at once); and `Terminations`, a context for a
whole run in which SIGTERM raises `KeyboardInterrupt` as Ctrl-C does, so that every phase
(building the model, compiling it, any engine) stops the same way: its compiler child killed,
its temporary files removed, a summary printed, exit 20. Outside the main thread, or for a
signal someone else already handles, neither changes anything. Imports nothing of the project.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType
from typing import Any


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


class Terminations:
    """SIGTERM raises `KeyboardInterrupt` inside the context (when nobody else handles it)."""

    def __init__(self) -> None:
        self._previous: Any = None
        self._installed = False

    def __enter__(self) -> Terminations:
        if threading.current_thread() is threading.main_thread() \
                and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            self._previous = signal.signal(signal.SIGTERM, _terminate)
            self._installed = True
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._installed:
            signal.signal(signal.SIGTERM, self._previous)
            self._installed = False


class Interrupts:
    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> Interrupts:
        if threading.current_thread() is not threading.main_thread():
            return self
        defaults = {signal.SIGINT: (signal.default_int_handler,), signal.SIGTERM: (signal.SIG_DFL, _terminate)}
        for signum, default in defaults.items():
            if signal.getsignal(signum) in default:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous = {}
