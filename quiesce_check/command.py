"""The `quiesce-check` command's entry point, kept apart from `cli` so that it imports nothing
before an interrupt can be answered: Ctrl-C while the tool starts (its imports take a moment)
or after its result is printed still ends it with a documented exit code, not a traceback; so
does SIGTERM until `cli.main` takes it over."""

from __future__ import annotations

import signal
import sys

# EXIT_CODES[Verdict.INCOMPLETE] in `engines.result`, repeated here so that nothing is imported
EXIT_INTERRUPTED = 20


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run() -> None:
    # SIGTERM while the imports run ends the tool as Ctrl-C does; `main` then takes it over
    terminate = signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    if terminate:
        signal.signal(signal.SIGTERM, _terminate)
    try:
        from quiesce_check.cli import main
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(EXIT_INTERRUPTED)
    if terminate:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # a closed pipe (`quiesce-check check m.qdl | head`) ends the process quietly, as other tools do
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        code = main()
    except KeyboardInterrupt:  # between `main`'s own handler and its return
        code = EXIT_INTERRUPTED
    # the result is out: a late Ctrl-C (or SIGTERM) changes nothing of it, exit code included
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sys.exit(code)
