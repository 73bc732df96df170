"""Run a command, pass its exit code on, and print its peak resident memory on stderr:
`peak_bytes=N` as the last line (Linux ru_maxrss is in KiB)."""

import os
import subprocess
import sys

proc = subprocess.Popen(sys.argv[1:])
_, status, usage = os.wait4(proc.pid, 0)
print(f"peak_bytes={usage.ru_maxrss * 1024}", file=sys.stderr)
sys.exit(os.waitstatus_to_exitcode(status))
