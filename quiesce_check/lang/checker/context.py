"""Stage 2: one model's side tables with the services that check its code.

Takes the `Tables` of a model; gives a `Checker`, what every pass is run with. The services
call one another (a range bound is a constant expression, an expression may call a def, a
def's body is an expression and a proc's a block, a block holds expressions and `for`
loops under the symmetry rules), so each holds the `Checker` and reaches the others
through it. Imports the checker's services and tables.
"""

from __future__ import annotations

from quiesce_check.lang.checker.collections import Collections
from quiesce_check.lang.checker.evaluate import Constants
from quiesce_check.lang.checker.expressions import Expressions
from quiesce_check.lang.checker.resolve import TypeResolver
from quiesce_check.lang.checker.routines import Routines
from quiesce_check.lang.checker.statements import Statements
from quiesce_check.lang.checker.symmetry import SymmetryRules
from quiesce_check.lang.checker.tables import Tables


class Checker:
    def __init__(self, tables: Tables) -> None:
        self.tables = tables
        self.constants = Constants(self)   # values of constant expressions (evaluate.py)
        self.types = TypeResolver(self)    # type expressions and domains (resolve.py)
        self.exprs = Expressions(self)     # the type of every expression (expressions.py)
        self.collections = Collections(self)  # sets, sequences, choose, built-ins (collections.py)
        self.stmts = Statements(self)      # statement rules (statements.py)
        self.routines = Routines(self)     # defs and procs, checked at first use (routines.py)
        self.symmetry = SymmetryRules(self)  # E027, the rules of symmetric types (symmetry.py)
