"""Running the system C compiler as a child that never outlives the run.

Takes a compiler command line, a time bound and the run's `Deadline`; gives the compiler's
`CompletedProcess`, as `subprocess.run` would. The compiler runs in a process group of its own,
so that stopping it stops what it started too (`cc` runs `cc1` and `as`): a time bound that
passes, Ctrl-C or SIGTERM (a `KeyboardInterrupt` here) kill the whole group and wait for it
before the exception goes on, and the caller's temporary folder can then be removed. The
deadline passing raises `TimeLimit`; the bound, `subprocess.TimeoutExpired`. Imports
`compile.deadline`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Sequence

from quiesce_check.compile.deadline import Deadline, TimeLimit

# How often the deadline is looked at while the compiler runs.
_POLL_SECONDS = 0.05


def _kill_group(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(OSError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        proc.kill()
    with contextlib.suppress(Exception):
        proc.communicate(timeout=10)


def run_compiler(argv: Sequence[str], timeout: float, deadline: Deadline | None = None
                 ) -> subprocess.CompletedProcess[str]:
    proc = subprocess.Popen(list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    start = time.perf_counter()
    try:
        while True:
            left = timeout - (time.perf_counter() - start)
            remaining = deadline.remaining() if deadline is not None else None
            if remaining is not None and remaining <= 0:
                assert deadline is not None and deadline.limit is not None
                raise TimeLimit(deadline.limit, "compiling the model's C")
            if left <= 0:
                raise subprocess.TimeoutExpired(list(argv), timeout)
            wait = min(x for x in (left, remaining, _POLL_SECONDS) if x is not None)
            try:
                out, err = proc.communicate(timeout=max(wait, 0.001))
            except subprocess.TimeoutExpired:
                continue
            return subprocess.CompletedProcess(list(argv), proc.returncode, out, err)
    except BaseException:
        _kill_group(proc)
        raise
