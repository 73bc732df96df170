"""Ctrl-C (or SIGTERM) during a search, as a request honoured between two steps of it.

Takes nothing; gives `Interrupts`, a context in which the first SIGINT or SIGTERM only sets a
flag that an engine checks between two expansions, so the search stops in a state it can
report and save exactly (a second one stops it at once). Outside the main thread, or for a
signal someone else already handles, it changes nothing: Ctrl-C raises `KeyboardInterrupt`
and SIGTERM ends the process, as usual. Imports nothing of the project.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType
from typing import Any


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
        defaults = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: signal.SIG_DFL}
        for signum, default in defaults.items():
            if signal.getsignal(signum) is default:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous = {}
