"""Stage 2: the limits the checker holds a model to, and the names it reserves.

Takes nothing; gives constants read by the passes (and `MAX_CONST_BITS` by the command
line, which bounds a `--param` value the same way). Imports nothing of the project.
"""

from __future__ import annotations

# Names of the verdicts every search reports beside the model's own properties (a property
# of that name would be reported as the verdict and the verdict as the property).
VERDICT_NAMES = frozenset({"deadlock"})

# A type with more values than this cannot be a domain or a `for` range.
MAX_DOMAIN = 1 << 16
# A single variable with more values than this is refused (its slots would not fit a state).
MAX_SLOTS_PER_VAR = 1 << 14
# A state with more scalar slots than this (all variables, every process instance's program
# counter and locals) is refused: no explicit-state search explores states that wide.
MAX_STATE_SLOTS = 1 << 16

# A constant may have at most this many bits (about 1200 decimal digits): more is no model's
# number, and Python refuses to print integers much longer.
MAX_CONST_BITS = 4000
