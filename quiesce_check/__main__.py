"""`python -m quiesce_check`: the same as the `quiesce-check` command."""

from quiesce_check.command import run

run()
