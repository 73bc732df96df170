"""Stage 2: the checked model. Names, constants, types, statement rules.

Takes an `ast.Model` and parameter overrides; gives a `CheckedModel`: the AST
untouched plus side tables (the type of every expression, what every name
refers to, the values of every domain) and the declarations in resolved form.
Passes run in a fixed order and collect every diagnostic; `check` raises
`ModelError` with all of them if there are any. Imports only `lang.*`.

Passes, in the order `driver.check` runs them (`driver.PASSES`), each in its module:
  1. declare      every top-level name once (params, consts, types, variables,
                  defs, procs, processes, actions, properties, obligations, the
                  hook); `--param` names the model does not declare
                  (declarations.py)
  2. constants    params (with overrides), obligations, consts and named types,
                  symmetric ones included, in declaration order (constants.py)
  3. variables    global variables: their types and initial values
                  (variables.py)
  4. processes    their instances, then their locals, labels and control
                  positions, then their guards and bodies (processes.py)
  5. state width  the whole state within MAX_STATE_SLOTS scalars (variables.py)
  6. actions      parameters, guards, bodies (actions.py)
  7. routines     the defs and procs nothing used: every other one was checked,
                  once, where it was first used (routines.py)
  8. properties   invariants and lemmas, final-state properties, reachability
                  goals, terminal predicates; `check` selections and
                  `--property`; the premise of every invariant and final
                  property that is an implication, for vacuity (properties.py)
  9. temporal     liveness properties (their parameters and predicates), `always
                  step` properties (`x'`, `by P`), fairness declarations and
                  what each names (temporal.py)
 10. hook         the def a hook runs at and the processes it binds (hooks.py)
 11. activity     a model with no process and no action is refused, when
                  nothing else was (driver.py)

What the passes learn is kept in one `tables.Tables` (each field says which pass
fills it and which read it), never on the AST. The passes check code through
services that call one another, reached through one `context.Checker`:
`evaluate` (constant values), `resolve` (type expressions and domains),
`expressions` (the type of every expression), `statements` (statement rules),
`routines` (defs and procs, checked at first use), `symmetry` (E027).
A service module imports `context` only for its annotations.
"""

from quiesce_check.lang.checker.driver import check
from quiesce_check.lang.checker.evaluate import apply_binary
from quiesce_check.lang.checker.limits import MAX_CONST_BITS
from quiesce_check.lang.checker.results import (
    ActionInfo,
    CheckedModel,
    ProcInfo,
    RBound,
    RConst,
    RDef,
    Ref,
    RoutineInfo,
    RProc,
    RVar,
    VarInfo,
)

__all__ = [
    "MAX_CONST_BITS", "ActionInfo", "CheckedModel", "ProcInfo", "RBound", "RConst", "RDef", "Ref", "RoutineInfo",
    "RProc", "RVar", "VarInfo", "apply_binary", "check",
]
