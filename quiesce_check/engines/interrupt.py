"""Ctrl-C during a search, as a request honoured between two steps of it.

Takes nothing; gives `Interrupts`, a context in which the first SIGINT only sets a flag that
an engine checks between two expansions, so the search stops in a state it can report and
save exactly (a second Ctrl-C stops it at once). Outside the main thread, or when someone
else handles SIGINT, it changes nothing and Ctrl-C raises `KeyboardInterrupt` as usual.
Imports nothing of the project.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType
from typing import Any


class Interrupts:
    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None
        self._installed = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> Interrupts:
        if threading.current_thread() is threading.main_thread() \
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
            self._installed = False
