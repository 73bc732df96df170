"""Stage 3: lower a checked model to the core IR.

Takes a `CheckedModel` and its `Layout`; gives a `Program`: IR actions,
initial states, properties and assertion sites. Process code becomes one
action per (instance, position, path): control statements take no step of
their own, so an `if`, `while` or `either` is folded into the step of the
first simple statement reached through it. Compound values are flattened to
scalars, array indexing with a computed index becomes a checked table read,
quantifiers over finite domains are unrolled. Imports `lang.*` and
`compile.ir`, `compile.layout`.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from quiesce_check.compile import ir as I
from quiesce_check.compile.bounds import Exit, bounds, exits, may_fail, slots_touched
from quiesce_check.compile.collections import (
    Collections,
    LSet,
    consts,
    equal,
    evaluated_first,
    guarded,
    pad,
)
from quiesce_check.compile.layout import Layout, State, flatten, instance_name, slot_count
from quiesce_check.lang import ast as A
from quiesce_check.lang.checker import (
    CheckedModel,
    ProcInfo,
    RBound,
    RConst,
    RDef,
    RoutineInfo,
    RProc,
    RVar,
)
from quiesce_check.lang.errors import Diagnostic, ModelError, Span
from quiesce_check.lang.positions import END, Key, ProcPositions
from quiesce_check.lang.types import (
    TArray,
    TBool,
    TEnum,
    TInt,
    TNothing,
    TProc,
    TRecord,
    TSeq,
    TSet,
    Type,
    Value,
    format_value,
    least_value,
    scalar_values,
    sym_of,
)

# A quantifier or array constructor over more values than this is refused; so are quantifiers
# nested (directly or through defs) into more copies of their innermost body than MAX_UNROLLED.
MAX_UNROLL = 4096
MAX_UNROLLED = 65536


# A scalar location: a fixed slot (`index is None`, one slot) or a table read.
@dataclass(frozen=True)
class Loc:
    slots: tuple[int, ...]
    index: I.Expr | None

    def read(self) -> I.Expr:
        return I.Slot(self.slots[0]) if self.index is None else I.Table(self.slots, self.index)


_CONTROL = (A.If, A.While, A.Either)


@dataclass(frozen=True)
class _Path:
    """One way from a position to the next step: the conditions met on the way, the
    statement executed (`None` when control comes back to a position without one),
    and every position passed, the first and last included."""

    conds: tuple[I.Expr, ...]
    final: A.Stmt | None
    final_key: Key
    through: tuple[Key, ...]


@dataclass
class _Env:
    """Where lowering stands: the process instance, and what each bound name stands for
    (the scalar parts of its value: one for a scalar, several for an array or a record)."""

    inst: tuple[ProcInfo, object] | None
    bound: dict[str, list[I.Expr]] = field(default_factory=dict)

    def with_bound(self, name: str, e: I.Expr | list[I.Expr]) -> _Env:
        return _Env(self.inst, {**self.bound, name: e if isinstance(e, list) else [e]})


class Lowerer:
    def __init__(self, cm: CheckedModel, layout: Layout) -> None:
        self.cm = cm
        self.lay = layout
        self.actions: list[I.Action] = []
        self.asserts: list[I.AssertInfo] = []
        self.choice_names: list[str] = []
        # the least and greatest value of every choice and `let` made so far, where known
        self.choice_bounds: dict[int, tuple[int, int]] = {}
        self.slot_ranges = [(sl.lo, sl.hi) for sl in layout.slots]
        self.lines: dict[str, list[str]] = {}
        self.standing_cache: dict[tuple[str, object], list[tuple[Key, _Path]]] = {}
        self.standing_busy: set[tuple[str, object]] = set()
        self.var_locs: dict[tuple[int, object], list[Loc]] = {}
        self.unrolled = 1  # copies of the expression being lowered that enclosing quantifiers make
        self.coll = Collections(self)
        self.choice_shown: dict[int, tuple[str, ...]] = {}  # see `Program.choice_shown`

    def known(self, e: I.Expr) -> tuple[int, int] | None:
        """The least and greatest value `e` may have, where known."""
        return bounds(e, self.slot_ranges, self.choice_bounds)

    def bind(self, env: _Env, name: str, parts: list[I.Expr], t: Type) -> _Env:
        return env.with_bound(name, parts)

    def finished(self, e: A.Expr, env: _Env) -> I.Expr:
        """`finished(P)`, `finished(P[i])`: the instance (every instance of P) stands at its end."""
        if isinstance(e, A.Index):
            ref = self.cm.refs[id(e.base)]
            assert isinstance(ref, RProc)
            proc = ref.proc
            assert proc.index_type is not None
            (iv,) = self.expr(e.index, env)
            n = len(proc.index_values)
            pos = self.position(proc.index_type, iv, proc.name, n)
            if isinstance(pos, I.Const) and not 0 <= int(pos.value) < n:
                pos = I.Checked(pos, n, proc.name)
            ends = [self._at_end(proc, inst) for inst in proc.index_values]
            if isinstance(pos, I.Const):
                return ends[int(pos.value)]
            acc: I.Expr = I.Ite(I.Bin("==", pos, I.Const(n - 1)), ends[n - 1], ends[n - 1])  # (checks pos)
            for m in range(n - 2, -1, -1):
                acc = I.Ite(I.Bin("==", pos, I.Const(m)), ends[m], acc)
            return acc
        ref = self.cm.refs[id(e)]
        assert isinstance(ref, RProc)
        terms = [self._at_end(ref.proc, inst) for inst in ref.proc.instances]
        acc = terms[0]
        for t in terms[1:]:
            acc = I.Bin("and", acc, t)
        return acc

    def _at_end(self, proc: ProcInfo, inst: object) -> I.Expr:
        pc = self.lay.pc_slot[(proc.name, inst)]
        return I.Bin("==", I.Slot(pc), I.Const(proc.positions.number(END)))

    def inline_def_set(self, info: RoutineInfo, args: Sequence[A.Expr], env: _Env) -> LSet:
        """A def whose value is a set, as an `LSet`."""
        d = info.decl
        assert isinstance(d, A.DefDecl)
        return self.coll.set_expr(d.body, self.def_env(info, args, env))
    # expressions ----------------------------------------------------------
    def position(self, t: Type, e: I.Expr, what: str, n: int) -> I.Expr:
        """The 0-based position of index value `e` in index type `t`, checked."""
        if isinstance(t, TBool):
            pos: I.Expr = I.Ite(e, I.Const(1), I.Const(0))
        elif isinstance(t, TInt) and t.lo:
            pos = I.Bin("-", e, I.Const(t.lo))
        else:
            pos = e
        if isinstance(pos, I.Const) or isinstance(t, TBool | TEnum):
            return pos
        return I.Checked(pos, n, what)

    def locs(self, e: A.Expr, env: _Env) -> list[Loc]:
        """Scalar locations of a variable access (a name, indexed or selected)."""
        if isinstance(e, A.Name):
            ref = self.cm.refs[id(e)]
            assert isinstance(ref, RVar)
            var = ref.var
            inst = env.inst[1] if var.owner is not None and env.inst is not None else None
            key = (id(var), inst)
            if key not in self.var_locs:  # built once: `a[i]` in a quantifier reads it once per `i`
                place = self.lay.place(var, inst)
                self.var_locs[key] = [Loc((place.base + j,), None) for j in range(place.count)]
            return list(self.var_locs[key])
        if isinstance(e, A.Field):
            if id(e) in self.cm.proc_fields:
                return self.proc_local_locs(e, env)
            bt = self.cm.type_of(e.base)
            assert isinstance(bt, TRecord)
            base = self.locs(e.base, env)
            start = 0
            for fname, ft in bt.fields:
                if fname == e.name:
                    return base[start:start + slot_count(ft)]
                start += slot_count(ft)
            raise AssertionError(e.name)
        if isinstance(e, A.Index) and isinstance(self.cm.type_of(e.base), TSeq):
            st = self.cm.type_of(e.base)
            assert isinstance(st, TSeq)
            base = self.locs(e.base, env)
            (iv,) = self.expr(e.index, env)
            pos = self.coll.seq_position(st, base[0].read(), iv, self.what(e))
            return self.select(base[1:], st.capacity, slot_count(st.elem), pos)
        if isinstance(e, A.Index):
            bt = self.cm.type_of(e.base)
            assert isinstance(bt, TArray)
            base = self.locs(e.base, env)
            n = len(scalar_values(bt.index))
            k = slot_count(bt.elem)
            (iv,) = self.expr(e.index, env)
            pos = self.position(bt.index, iv, self.what(e.base), n)
            return self.select(base, n, k, pos)
        raise AssertionError(e)

    def select(self, base: list[Loc], n: int, k: int, pos: I.Expr) -> list[Loc]:
        """Element `pos` (of `n`, each `k` scalars wide) of a flattened array."""
        if isinstance(pos, I.Const):
            p = int(pos.value)
            if 0 <= p < n:
                return base[p * k:(p + 1) * k]
            pos = I.Checked(pos, n, "index")
        out = []
        for j in range(k):
            elems = [base[m * k + j] for m in range(n)]
            if all(x.index is None for x in elems):
                out.append(Loc(tuple(x.slots[0] for x in elems), pos))
            else:
                inner = elems[0].index
                assert inner is not None
                width = len(elems[0].slots)
                combined = I.Bin("+", I.Bin("*", pos, I.Const(width)), inner)
                out.append(Loc(tuple(s for x in elems for s in x.slots), combined))
        return out

    def proc_local_locs(self, e: A.Field, env: _Env) -> list[Loc]:
        var = self.cm.proc_fields[id(e)]
        proc = var.owner
        assert proc is not None
        if isinstance(e.base, A.Index):
            (iv,) = self.expr(e.base.index, env)
            assert proc.index_type is not None
            n = len(proc.index_values)
            pos = self.position(proc.index_type, iv, proc.name, n)
            per = [[Loc((self.lay.place(var, inst).base + j,), None)
                    for j in range(slot_count(var.type))] for inst in proc.index_values]
            return self.select([x for row in per for x in row], n, slot_count(var.type), pos)
        place = self.lay.place(var, None)
        return [Loc((place.base + j,), None) for j in range(place.count)]

    def at_expr(self, e: A.At, env: _Env) -> I.Expr:
        """`P@label` or `P[i]@label`; for a computed index, chosen among the instances."""
        if isinstance(e.process, A.Name):
            ref = self.cm.refs[id(e.process)]
            assert isinstance(ref, RProc)
            return self.at_label(ref.proc, None, e.label)
        assert isinstance(e.process, A.Index) and isinstance(e.process.base, A.Name)
        ref = self.cm.refs[id(e.process.base)]
        assert isinstance(ref, RProc)
        proc = ref.proc
        assert proc.index_type is not None
        (iv,) = self.expr(e.process.index, env)
        n = len(proc.index_values)
        pos = self.position(proc.index_type, iv, proc.name, n)
        if isinstance(pos, I.Const):
            p = int(pos.value)
            if 0 <= p < n:
                return self.at_label(proc, proc.index_values[p], e.label)
            pos = I.Checked(pos, n, proc.name)
        acc: I.Expr = self.at_label(proc, proc.index_values[n - 1], e.label)
        for m in range(n - 2, -1, -1):
            acc = I.Ite(I.Bin("==", pos, I.Const(m)), self.at_label(proc, proc.index_values[m], e.label), acc)
        return acc

    def what(self, e: A.Expr) -> str:
        return self.source_of(e.span)

    def source_of(self, span: Span) -> str:
        if span.path not in self.lines:
            self.lines[span.path] = self.cm.ast.text_of(span.path).splitlines()
        lines = self.lines[span.path]
        if 1 <= span.line <= len(lines):
            line = lines[span.line - 1]
            end = span.end_col - 1 if span.end_line == span.line else len(line)
            return line[span.col - 1:end].strip()
        return "?"

    def expr(self, e: A.Expr, env: _Env) -> list[I.Expr]:
        """An expression as the list of its scalar parts (one for a scalar)."""
        parts = self.collection_expr(e, env)
        if parts is not None:
            return parts
        if isinstance(e, A.IntLit):
            return [I.Const(e.value)]
        if isinstance(e, A.BoolLit):
            return [I.Const(e.value)]
        if isinstance(e, A.Name):
            ref = self.cm.refs[id(e)]
            if isinstance(ref, RConst):
                return [I.Const(x) for x in flatten(ref.type, ref.value)]
            if isinstance(ref, RBound):
                return list(env.bound[e.name])
            if isinstance(ref, RDef):
                return self.inline_def(ref.routine, (), env)
            return [loc.read() for loc in self.locs(e, env)]
        if isinstance(e, A.Call):
            return self.inline_def(self.cm.calls[id(e)], e.args, env)
        if isinstance(e, A.Index | A.Field):
            t = self.cm.type_of(e)
            if isinstance(t, TProc):
                raise AssertionError("process reference outside `@` or `.`")
            root: A.Expr = e
            while isinstance(root, A.Index | A.Field):
                root = root.base
            if isinstance(root, A.Name) and isinstance(self.cm.refs.get(id(root)), RVar | RProc):
                return [loc.read() for loc in self.locs(e, env)]
            return self.value_access(e, env)
        if isinstance(e, A.At):
            return [self.at_expr(e, env)]
        if isinstance(e, A.Prime):
            return [I.shift_slots(x, len(self.lay.slots)) for x in self.expr(e.base, env)]
        if isinstance(e, A.By):
            call = self.cm.by_calls.get(id(e))
            return self.expr(call, env) if call is not None else [self.by_expr(e.name)]
        if isinstance(e, A.Unary):
            (a,) = self.expr(e.operand, env)
            if isinstance(a, I.Const):
                return [I.Const((not a.value) if e.op == "not" else -int(a.value))]
            return [I.Un(e.op, a)]
        if isinstance(e, A.Binary):
            return [self.binary(e, env)]
        if isinstance(e, A.IfExpr):
            (c,) = self.expr(e.cond, env)
            a_parts = self.expr(e.then, env)
            b_parts = self.expr(e.orelse, env)
            return [I.Ite(c, x, y) for x, y in zip(a_parts, b_parts, strict=True)]
        if isinstance(e, A.Quant):
            dom = self.coll.domain(e.domain, env)
            with self.unrolling(len(dom), e.span):
                terms = [self.expr(e.body, env.with_bound(e.var, c))[0] for c, _ in dom]
            terms = [t if g is None else (I.Bin("=>", g, t) if e.kind == "forall" else I.Bin("and", g, t))
                     for t, (_, g) in zip(terms, dom, strict=True)]
            if not terms:
                return [I.Const(0 if e.kind == "count" else e.kind == "forall")]
            if e.kind == "count":
                return [I.Count(tuple(terms))]
            if sym_of(self.cm.domains[id(e.domain)][0]) is not None and len(terms) > 1:
                # over a symmetric type every term is evaluated, in no order that matters: `and` and
                # `or` stop at the first deciding value, so a term that fails (a division by zero)
                # would fail or not depending on which value comes first
                n = I.Count(tuple(terms))
                return [I.Bin("==", n, I.Const(len(terms))) if e.kind == "forall" else I.Bin(">", n, I.Const(0))]
            op = "and" if e.kind == "forall" else "or"
            acc = terms[0]
            for term in terms[1:]:
                acc = I.Bin(op, acc, term)
            return [acc]
        if isinstance(e, A.ArrayLit):
            return [x for item in e.items for x in self.expr(item, env)]
        if isinstance(e, A.ArrayComp):
            _, values = self.cm.domains[id(e.domain)]
            assert values is not None  # an array is indexed by a type
            with self.unrolling(len(values), e.span):
                return [x for v in values for x in self.expr(e.body, env.with_bound(e.var, I.Const(v)))]
        if isinstance(e, A.RecordLit):
            return [x for _, item in e.fields for x in self.expr(item, env)]
        raise AssertionError(e)

    def collection_expr(self, e: A.Expr, env: _Env) -> list[I.Expr] | None:
        """The parts of a set, sequence, `choose` or built-in; None for every other expression."""
        t = self.cm.types.get(id(e))
        if isinstance(e, A.Field) and id(e) in self.cm.qualified:
            return [I.Const(self.cm.qualified[id(e)][0])]
        if isinstance(e, A.Call) and id(e) in self.cm.builtins:
            return self.coll.builtin(e, env)
        if isinstance(e, A.Choose):
            return self.coll.choose(e, env)
        if isinstance(e, A.SeqLit):
            return self.coll.seq_lit(e, env)
        if isinstance(e, A.Binary) and e.op in ("in", "not in", "subset") or (
                isinstance(e, A.Binary) and e.op in ("==", "!=") and isinstance(self.cm.types.get(id(e.left)), TSet)):
            return [self.coll.set_binary(e, env)]
        if isinstance(e, A.Index) and isinstance(self.cm.types.get(id(e.base)), TSeq):
            return self.seq_element(e, env)
        if isinstance(t, TSet) and isinstance(e, A.SetLit | A.SetFilter | A.SetMap | A.Binary | A.IfExpr):
            if isinstance(t.elem, TInt) and t.elem.lo is None or isinstance(t.elem, TNothing):
                raise ModelError([Diagnostic("E020", "this set's elements have no bounded type here", e.span,
                                             "store it in a variable of type `set of T`, or compare it with one")])
            return self.coll.to_bits(self.coll.set_expr(e, env), t, self.what(e))
        if isinstance(t, TSeq) and isinstance(e, A.IfExpr):
            (c,) = self.expr(e.cond, env)
            a = self.coll.coerce(self.expr(e.then, env), self.cm.type_of(e.then), t, self.what(e))
            b = self.coll.coerce(self.expr(e.orelse, env), self.cm.type_of(e.orelse), t, self.what(e))
            return [I.Ite(c, x, y) for x, y in zip(a, b, strict=True)]
        if isinstance(e, A.Binary) and e.op in ("==", "!=") and isinstance(self.cm.types.get(id(e.left)), TSeq):
            lt, rt = self.cm.type_of(e.left), self.cm.type_of(e.right)
            both = TSeq(max(lt.capacity, rt.capacity), lt.elem if not isinstance(lt.elem, TNothing)  # type: ignore
                        else rt.elem)  # type: ignore[union-attr]
            xs = self.coll.coerce(self.expr(e.left, env), lt, both, self.what(e))
            ys = self.coll.coerce(self.expr(e.right, env), rt, both, self.what(e))
            same = equal(xs, ys)
            return [same if e.op == "==" else I.Un("not", same)]
        return None

    def seq_element(self, e: A.Index, env: _Env) -> list[I.Expr]:
        t = self.cm.type_of(e.base)
        assert isinstance(t, TSeq)
        q = self.expr(e.base, env)
        (iv,) = self.expr(e.index, env)
        if not t.capacity:  # `<<>>[i]`: never an element
            return guarded(I.Checked(I.Const(0), 0, self.what(e), "seqindex"), pad(t.elem))
        pos = self.coll.seq_position(t, q[0], iv, self.what(e))
        return evaluated_first(self.coll.risky(q), self.pick_element(q[1:], t.capacity, slot_count(t.elem), pos))

    def pick_element(self, parts: list[I.Expr], n: int, k: int, pos: I.Expr) -> list[I.Expr]:
        """Element `pos` (of `n`, each `k` parts wide) of a flattened array of values."""
        out: list[I.Expr] = []
        for j in range(k):
            acc: I.Expr = parts[(n - 1) * k + j]
            for m in range(n - 2, -1, -1):
                acc = I.Ite(I.Bin("==", pos, I.Const(m)), parts[m * k + j], acc)
            if n == 1:
                acc = I.Ite(I.Bin("==", pos, I.Const(0)), acc, acc)  # (the check in `pos` is still made)
            out.append(acc)
        return out

    def value_access(self, e: A.Index | A.Field, env: _Env) -> list[I.Expr]:
        """Indexing or selecting from a computed value (a literal, a constant)."""
        base_t = self.cm.type_of(e.base)
        parts = self.expr(e.base, env)
        if isinstance(e, A.Field):
            assert isinstance(base_t, TRecord)
            start = 0
            for fname, ft in base_t.fields:
                if fname == e.name:
                    return parts[start:start + slot_count(ft)]
                start += slot_count(ft)
            raise AssertionError(e.name)
        assert isinstance(base_t, TArray)
        n = len(scalar_values(base_t.index))
        k = slot_count(base_t.elem)
        (iv,) = self.expr(e.index, env)
        pos = self.position(base_t.index, iv, self.what(e.base), n)
        if isinstance(pos, I.Const):
            p = int(pos.value)
            if 0 <= p < n:
                return parts[p * k:(p + 1) * k]
            pos = I.Checked(pos, n, self.what(e.base))
        return self.pick_element(parts, n, k, pos)

    def binary(self, e: A.Binary, env: _Env) -> I.Expr:
        if e.op in ("==", "!="):
            xs = self.expr(e.left, env)
            ys = self.expr(e.right, env)
            terms = [I.Bin("==", x, y) for x, y in zip(xs, ys, strict=True)]
            if len(terms) > 1 and any(may_fail(t, self.slot_ranges, self.choice_bounds) for t in terms):
                # two arrays or records are equal when every part is: each part is evaluated, as
                # the values compared are whole, so a part that fails fails whichever part differs
                # first (over a symmetric index, which comes first is a matter of order)
                same: I.Expr = I.Bin("==", I.Count(tuple(terms)), I.Const(len(terms)))
                return same if e.op == "==" else I.Un("not", same)
            acc: I.Expr = terms[0]
            for t in terms[1:]:
                acc = I.Bin("and", acc, t)
            return acc if e.op == "==" else I.Un("not", acc)
        (a,) = self.expr(e.left, env)
        (b,) = self.expr(e.right, env)
        return I.Bin(e.op, a, b, e.span if e.op in ("/", "%") else None)

    def inline_def(self, info: RoutineInfo, args: Sequence[A.Expr], env: _Env) -> list[I.Expr]:
        """A def's body with each parameter standing for its argument (a def is pure, so
        substituting the argument's expression is the same as passing its value)."""
        d = info.decl
        assert isinstance(d, A.DefDecl)
        return self.expr(d.body, self.def_env(info, args, env))

    def def_env(self, info: RoutineInfo, args: Sequence[A.Expr], env: _Env) -> _Env:
        inner = _Env(env.inst)
        for (name, pt), a in zip(info.params, args, strict=True):
            inner = inner.with_bound(name, self.argument(a, pt, env))
        return inner

    def argument(self, a: A.Expr, t: Type, env: _Env, what: str | None = None) -> list[I.Expr]:
        """The parts of `a` as a value of type `t` (a parameter's, a variable's); `what` names the
        place in a failure (a set element outside `t`, a sequence too long for it)."""
        what = what or self.what(a)
        if isinstance(t, TSet):
            return self.coll.to_bits(self.coll.set_expr(a, env), t, what)
        return self.coll.coerce(self.expr(a, env), self.cm.type_of(a), t, what)

    def check_unroll(self, n: int, span: Span) -> None:
        if n > MAX_UNROLL:
            raise ModelError([Diagnostic("E024", f"a quantifier or array over {n} values; at most {MAX_UNROLL}",
                                         span)])

    @contextlib.contextmanager
    def unrolling(self, n: int, span: Span) -> Iterator[None]:
        """Lowering the body of a quantifier over `n` values, once per value."""
        self.check_unroll(n, span)
        if self.unrolled * n > MAX_UNROLLED:
            raise ModelError([Diagnostic(
                "E024", f"quantifiers nested into {self.unrolled * n:,} copies of this one's body; at most "
                f"{MAX_UNROLLED:,}", span)])
        outer = self.unrolled
        self.unrolled *= n
        try:
            yield
        finally:
            self.unrolled = outer

    # statements -----------------------------------------------------------
    def new_choice(self, name: str, values: Sequence[Value] = ()) -> int:
        self.choice_names.append(name)
        var = len(self.choice_names) - 1
        if values:
            ints = [int(v) for v in values]
            self.choice_bounds[var] = (min(ints), max(ints))
        return var

    def assign(self, s: A.Assign, env: _Env) -> I.Assign:
        targets = self.locs(s.target, env)
        values = self.argument(s.value, self.cm.type_of(s.target), env, f"{self.what(s.target)} := {self.what(s.value)}")
        return self.make_assign(targets, values, self.what(s.target))

    def make_assign(self, targets: list[Loc], values: Sequence[I.Expr], what: str) -> I.Assign:
        return I.Assign(tuple((t.slots, t.index) for t in targets), tuple(values), what)

    def atomic_block(self, stmts: Sequence[A.Stmt], env: _Env) -> list[I.Stmt]:
        out: list[I.Stmt] = []
        for s in stmts:
            if isinstance(s, A.Let):
                parts, env = self.bind_values(s.name, self.expr(s.value, env), env)
                out.extend(parts)
                continue
            out.extend(self.atomic_stmt(s, env))
        return out

    def bind_values(self, name: str, parts: list[I.Expr], env: _Env) -> tuple[list[I.Stmt], _Env]:
        """`name` bound to the values `parts` have now (constants stay constants)."""
        lets: list[I.Stmt] = []
        bound: list[I.Expr] = []
        for part in parts:
            if isinstance(part, I.Const):
                bound.append(part)
            else:
                var = self.new_choice(name)
                known = bounds(part, self.slot_ranges, self.choice_bounds)
                if known is not None:
                    self.choice_bounds[var] = known
                lets.append(I.Let(var, part))
                bound.append(I.Chosen(var))
        return lets, env.with_bound(name, bound)

    def call(self, s: A.CallStmt, env: _Env) -> list[I.Stmt]:
        """A proc's body where it is called: each argument is evaluated once, when the call starts."""
        info = self.cm.calls[id(s)]
        d = info.decl
        assert isinstance(d, A.ProcDecl)
        out: list[I.Stmt] = []
        inner = _Env(env.inst)
        for (name, pt), a in zip(info.params, s.args, strict=True):
            lets, inner = self.bind_values(name, self.argument(a, pt, env), inner)
            out.extend(lets)
        return out + self.atomic_block(d.body, inner)

    def atomic_stmt(self, s: A.Stmt, env: _Env) -> list[I.Stmt]:
        if isinstance(s, A.Assign):
            return [self.assign(s, env)]
        if isinstance(s, A.Await):
            (c,) = self.expr(s.cond, env)
            return [I.Guard(c)]
        if isinstance(s, A.Assert):
            (c,) = self.expr(s.cond, env)
            self.asserts.append(I.AssertInfo(len(self.asserts), self.source_of(s.cond.span), s.span))
            return [I.Assert(c, len(self.asserts) - 1)]
        if isinstance(s, A.Skip):
            return []
        if isinstance(s, A.If):
            (c,) = self.expr(s.cond, env)
            return [I.If(c, tuple(self.atomic_block(s.then, env)), tuple(self.atomic_block(s.orelse, env)))]
        if isinstance(s, A.Send | A.Receive):
            return self.message(s, env)
        if isinstance(s, A.For):
            t, values = self.cm.domains[id(s.domain)]
            if values is None:  # over a set the state holds: its members as the loop starts, ascending
                dom = self.coll.ascending(s.domain, env)
                fixed: list[I.Stmt] = []
                visits: list[tuple[_Env, I.Expr]] = []
                for cand, g in dom:
                    lets, inner = self.bind_values(s.var, cand, env)
                    member, held = self.bind_values("member", [g if g is not None else I.Const(True)], env)
                    fixed += lets + member
                    visits.append((inner, held.bound["member"][0]))
                return fixed + [I.If(flag, tuple(self.atomic_block(s.body, inner)), ()) for inner, flag in visits]
            rounds = [self.atomic_block(s.body, env.with_bound(s.var, I.Const(v))) for v in values]
            out = [stmt for r in rounds for stmt in r]
            if sym_of(t) is not None:
                self.rounds_apart(s, t, values, rounds)
                self.rounds_end_alike(s, t, out)
            return out
        if isinstance(s, A.Either):
            var = self.new_choice("either")
            return [I.Choice(var, tuple(tuple(self.atomic_block(b, env)) for b in s.branches))]
        if isinstance(s, A.With):
            return [self.with_stmt(s, env, [])]
        if isinstance(s, A.Atomic):
            return self.atomic_block(s.body, env)
        if isinstance(s, A.CallStmt):
            return self.call(s, env)
        raise AssertionError(s)

    def rounds_apart(self, s: A.For, t: Type, values: Sequence[Value], rounds: Sequence[Sequence[I.Stmt]]) -> None:
        """E027 unless no round of a `for` loop over a symmetric type writes a slot that another
        round reads or writes: the rule *independent rounds*, held here on the code that will run
        (every name resolved, every def and proc written out), as the checker holds it on the text.
        Then each round sees the state as it was before the loop, but for its own writes, and
        the state after the loop is the same in any order."""
        touched = [slots_touched(r) for r in rounds]
        for i, (written, _) in enumerate(touched):
            for j, (w2, r2) in enumerate(touched):
                shared = written & (w2 | r2) if i != j else set()
                if shared:
                    slot = self.lay.slots[min(shared)]
                    decl = self.cm.symmetric.get(sym_of(t) or "")
                    raise ModelError([Diagnostic(
                        "E027", f"inside `for {s.var} in {t}`, the round for {s.var} = {values[i]} writes "
                        f"`{slot.name}`, which the round for {s.var} = {values[j]} reads or writes: the rounds "
                        "would see each other, and their order would decide", s.span,
                        "let each round write only what is indexed by the loop's value, and read what the loop "
                        "writes only there",
                        (("declared symmetric", decl[1].span),) if decl is not None else ())])

    def rounds_end_alike(self, s: A.For, t: Type, rounds: list[I.Stmt]) -> None:
        """E027 unless the rounds of a `for` loop over a symmetric type can end the step early
        in one way only (the condition *rounds end alike* of "Symmetric types" in
        docs/language.md). The rounds run in the type's order and the first that ends the
        step decides how it ends: were one round able to disable it (an `await`, a `with ...
        where`) and another to fail it (an `assert`, a model error), or two to fail it
        differently, which happens would depend on the order of the values, and a search that
        keeps one state per orbit could keep the one that hides a failure."""
        found = exits(rounds, self.slot_ranges, self.choice_bounds)
        kinds: dict[tuple[str, str | None], Exit] = {}
        for x in found:
            # each round has its own copy of an assertion, and assertions are reported by their text:
            # assertions of one text are one way to fail
            kinds.setdefault((x.kind, self.asserts[x.assert_id].text if x.kind == "assert" else None), x)
        if len(kinds) < 2:
            return
        first, second = list(kinds.values())[:2]
        decl = self.cm.symmetric.get(sym_of(t) or "")
        related = [(label, span) for x in (first, second) for label, span in [self.exit_site(x, s.body)]
                   if span is not None]
        if decl is not None:
            related.append(("declared symmetric", decl[1].span))
        raise ModelError([Diagnostic(
            "E027", f"inside `for {s.var} in {t}`, {self.exit_words(first)} and {self.exit_words(second)}: "
            f"the rounds run in the order of {t}'s values and the first that ends the step decides how, "
            "so the outcome would depend on that order", s.span,
            "let every round end the step in one way only: test the condition before the loop (`await "
            f"forall {s.var} in {t}: ...`), or check it after the loop, or declare the type without `symmetric` "
            "(the rule holds whatever the search, `--no-symmetry` included)",
            tuple(related))])

    def exit_words(self, x: Exit) -> str:
        if x.kind == "block":
            return "an `await` or a `with ... where` may disable the step"
        if x.kind == "assert":
            return f"`assert {self.asserts[x.assert_id].text}` may fail it"
        return f"{x.what}, a model error"

    def exit_site(self, x: Exit, body: Sequence[A.Stmt]) -> tuple[str, Span | None]:
        """Where an exit stands, for a note: an assertion's own span, the first `await` or
        filtered `with` of the loop's body."""
        if x.kind == "assert":
            return "this may fail the step", self.asserts[x.assert_id].span
        if x.kind == "block":
            return "this may disable the step", _first_block(body)
        return "", None

    def with_stmt(self, s: A.With, env: _Env, tail: list[I.Stmt]) -> I.Pick:
        et, values = self.cm.domains[id(s.domain)]
        if values and slot_count(et) == 1:
            var = self.new_choice(s.var, values)
            keys, inner, member = tuple(values), env.with_bound(s.var, I.Chosen(var)), None
            picked, snapshot = inner, list[I.Stmt]()
        else:
            dom = self.coll.domain(s.domain, env)
            if not dom:  # no value can be chosen: the statement never runs
                dom = [([I.Const(x) for x in flatten(et, least_value(et))], I.Const(False))]
            var, keys, parts, member = self.coll.pick(s.var, dom, et)
            picked = env.with_bound(s.var, parts)
            # the value chosen, fixed as the body starts: a candidate may read what the body writes
            snapshot, inner = self.bind_values(s.var, parts, env)
        where = self.expr(s.where, picked)[0] if s.where is not None else None
        if member is not None:
            where = member if where is None else I.Bin("and", member, where)
        body = snapshot + self.atomic_block(s.body, inner) + tail
        return I.Pick(var, s.var, keys, where, tuple(body))

    def message(self, s: A.Send | A.Receive, env: _Env) -> list[I.Stmt]:
        """`send q, v;` and `receive q -> x;`: wait for room (an element), then move one."""
        t = self.cm.type_of(s.queue)
        assert isinstance(t, TSeq)
        locs = self.locs(s.queue, env)
        q = [loc.read() for loc in locs]
        n = q[0]
        items = self.coll.seq_items(t, q)
        what = self.what(s.queue)
        if isinstance(s, A.Send):
            v = self.argument(s.value, t.elem, env)
            new = [I.Ite(I.Bin("==", n, I.Const(i)), a, b) for i, item in enumerate(items)
                   for a, b in zip(v, item, strict=True)]
            return [I.Guard(I.Bin("<", n, I.Const(t.capacity))),
                    self.make_assign(locs, [I.Bin("+", n, I.Const(1)), *new], what)]
        pad = [I.Const(x) for x in flatten(t.elem, least_value(t.elem))]
        rest = [x for item in items[1:] for x in item] + pad
        target = self.locs(s.target, env)
        got = self.coll.coerce(items[0], t.elem, self.cm.type_of(s.target), self.what(s.target))
        return [I.Guard(I.Bin(">", n, I.Const(0))), self.make_assign(target, got, self.what(s.target)),
                self.make_assign(locs, [I.Bin("-", n, I.Const(1)), *rest], what)]

    # processes ------------------------------------------------------------
    def process(self, proc: ProcInfo, inst: object) -> None:
        """One action per position the instance can stand at and path to its next step."""
        pos = proc.positions
        pc = self.lay.pc_slot[(proc.name, inst)]
        base = self.process_env(proc, inst)
        shown = instance_name(proc, inst)
        label_at = {k: name for name, keys in pos.labels.items() for k in keys}
        for key, path in self.standing(proc, inst):
            final, final_key = path.final, path.final_key
            env = _Env((proc, inst), {**base, **{k: [I.Const(v)] for k, v in pos.binds.get(final_key, {}).items()}})
            body: list[I.Stmt] = [I.Guard(I.Bin("==", I.Slot(pc), I.Const(pos.number(key))))]
            if proc.decl.when is not None:
                body.append(I.Guard(self.expr(proc.decl.when, _Env((proc, inst), base))[0]))
            body += [I.Guard(c) for c in path.conds]
            if final is None:
                # control came back to a position without a statement
                body.append(self.make_assign([Loc((pc,), None)], [I.Const(pos.number(final_key))], "pc"))
                span = pos.stmt[key].span
                text = "(loop without a step)" if final_key != END else "(end of process)"
            else:
                go = self.make_assign([Loc((pc,), None)], [I.Const(pos.number(pos.after[final_key]))], "pc")
                if isinstance(final, A.With):
                    body.append(self.with_stmt(final, env, [go]))
                else:
                    body += self.atomic_stmt(final, env)
                    body.append(go)
                span = final.span
                text = self.statement_text(final)
            name = label_at.get(final_key) or label_at.get(key) or f"L{span.line}"
            self.add_action(name, shown, text, span, pc, pos.number(key), body)

    def paths(self, pos: ProcPositions, key: Key, base: dict[str, list[I.Expr]], inst: tuple[ProcInfo, object],
              visited: frozenset[Key]) -> list[_Path]:
        """Every way control can go from `key` to its next simple statement."""
        if key == END:
            return [_Path((), None, END, (END,))]
        s = pos.stmt[key]
        env = _Env(inst, {**base, **{k: [I.Const(v)] for k, v in pos.binds.get(key, {}).items()}})

        def go(target: Key, cond: I.Expr | None) -> list[_Path]:
            conds = () if cond is None else (cond,)
            if target in visited:
                return [_Path(conds, None, target, (key, target))]
            if target != END and isinstance(pos.stmt[target], _CONTROL):
                sub = self.paths(pos, target, base, inst, visited | {target})
            else:
                sub = self.paths(pos, target, base, inst, visited)
            return [_Path(conds + p.conds, p.final, p.final_key, (key, *p.through)) for p in sub]

        if isinstance(s, A.If):
            (c,) = self.expr(s.cond, env)
            then_k, else_k = pos.branches[key]
            return go(then_k, c) + go(else_k, _negate(c))
        if isinstance(s, A.While):
            (c,) = self.expr(s.cond, env)
            (body_k,) = pos.branches[key]
            return go(body_k, c) + go(pos.after[key], _negate(c))
        if isinstance(s, A.Either):
            out = []
            for b in pos.branches[key]:
                out += go(b, None)
            return out
        return [_Path((), s, key, (key,))]

    def standing(self, proc: ProcInfo, inst: object) -> list[tuple[Key, _Path]]:
        """Positions a process instance can stand at, each with the paths to its next step.

        Positions are visited from the start, following where each step leaves
        control, so positions only ever passed through (a loop body's first
        statement, reached by folding) are not among them. Paths whose
        conditions are constantly false are dropped.
        """
        cache_key = (proc.name, inst)
        if cache_key in self.standing_cache:
            return self.standing_cache[cache_key]
        if cache_key in self.standing_busy:
            raise ModelError([Diagnostic(
                "E030", f"`{proc.name}@...` is used in a condition that decides {proc.name}'s own control flow",
                proc.decl.span, "test a variable the process sets instead")])
        self.standing_busy.add(cache_key)
        pos = proc.positions
        base = self.process_env(proc, inst)
        out: list[tuple[Key, _Path]] = []
        todo = [pos.start]
        done: set[Key] = set()
        while todo:
            key = todo.pop(0)
            if key in done or key == END:
                continue
            done.add(key)
            first = frozenset({key}) if isinstance(pos.stmt[key], _CONTROL) else frozenset()
            for path in self.paths(pos, key, base, (proc, inst), first):
                if any(isinstance(c, I.Const) and not c.value for c in path.conds):
                    continue
                path = _Path(tuple(c for c in path.conds if not isinstance(c, I.Const)), path.final,
                             path.final_key, path.through)
                out.append((key, path))
                todo.append(path.final_key if path.final is None else pos.after[path.final_key])
        self.standing_busy.discard(cache_key)
        self.standing_cache[cache_key] = out
        return out

    def process_env(self, proc: ProcInfo, inst: object) -> dict[str, list[I.Expr]]:
        if proc.decl.index_var is not None:
            return {proc.decl.index_var: [I.Const(inst)]}  # type: ignore[arg-type]
        return {}

    def at_label(self, proc: ProcInfo, inst: object, label: str) -> I.Expr:
        """`P@label`: the labelled statement is on P's way to its next step in this state."""
        targets = proc.positions.labels[label]
        pc = self.lay.pc_slot[(proc.name, inst)]
        terms: list[I.Expr] = []
        for key, path in self.standing(proc, inst):
            if targets.intersection(path.through):
                here: I.Expr = I.Bin("==", I.Slot(pc), I.Const(proc.positions.number(key)))
                for c in path.conds:
                    here = I.Bin("and", here, c)
                terms.append(here)
        if not terms:
            return I.Const(False)
        acc = terms[0]
        for t in terms[1:]:
            acc = I.Bin("or", acc, t)
        return acc

    def statement_text(self, s: A.Stmt) -> str:
        """The statement as one short line: its code, and for a block spanning
        lines its first line, `...`, and the comment that opens it if any."""
        end = s.span.end_col if s.span.end_line == s.span.line else 10**6
        first = self.source_of(Span(s.span.path, s.span.line, s.span.col, s.span.line, end))
        code, _, comment = first.partition("//")
        code = " ".join(code.split())
        if s.span.end_line != s.span.line:
            code = f"{code} ... }}" if code.endswith("{") else f"{code} ..."
            if comment.strip():
                code = f"{code}  // {comment.strip()}"
        return code if len(code) <= 72 else code[:69].rstrip() + "..."

    def add_action(self, name: str, process: str, text: str, span: Span, pc: int | None,
                   pc_value: int | None, body: list[I.Stmt]) -> None:
        self.actions.append(I.Action(len(self.actions), name, process, text, span, pc, pc_value,
                                     tuple(body), ()))

    # plain actions ----------------------------------------------------------
    def action(self, info: object) -> None:
        from quiesce_check.lang.checker import ActionInfo
        assert isinstance(info, ActionInfo)
        d = info.decl
        env = _Env(None)
        vars_: list[tuple[int, str, tuple[Value, ...]]] = []
        members: list[I.Stmt] = []
        for (name, t, values), p in zip(info.params, d.params, strict=True):
            if slot_count(t) == 1:
                var = self.new_choice(name, values)
                parts: list[I.Expr] = [I.Chosen(var)]
            else:  # a record or an array: chosen by its position among the values
                var, keys, parts, _ = self.coll.pick(name, [(consts(t, v), None) for v in values], t)
                values = keys
            vars_.append((var, name, values))
            env = env.with_bound(name, parts)
            if self.cm.domains[id(p.domain)][1] is None:  # over a set the state holds
                members.append(I.Guard(self.coll.domain_member(p.domain, parts, env)))
        body: list[I.Stmt] = list(members)
        if any(not values for _, _, values in vars_):  # a parameter with no value: the action never runs
            self.add_action(d.name, "", d.name, d.span, None, None, [I.Guard(I.Const(False))])
            return
        if d.when is not None:
            body.append(I.Guard(self.expr(d.when, env)[0]))
        body += self.atomic_block(d.body, env)
        for var, name, values in reversed(vars_):
            body = [I.Pick(var, name, tuple(values), None, tuple(body))]
        self.add_action(d.name, "", d.name, d.span, None, None, body)

    def prop(self, d: A.PropertyDecl) -> I.Property:
        return I.Property(d.kind, d.name, self.expr(d.expr, _Env(None))[0], d.span)

    def premises(self, props: Sequence[A.PropertyDecl]) -> tuple[I.Property, ...]:
        return tuple(I.Property("premise", d.name, self.expr(self.cm.premises[d.name], _Env(None))[0], d.span)
                     for d in props if d.name in self.cm.premises)

    # temporal properties and fairness ---------------------------------------
    def family(self, name: str) -> list[tuple[str, list[int]]]:
        """Each instance of process `name` (its shown name) and the indices of its actions."""
        procs = [p for p in self.cm.processes if p.name == name]
        return [(shown, [a.index for a in self.actions if a.process == shown])
                for p in procs for shown in (instance_name(p, i) for i in p.instances)]

    def by_expr(self, name: str) -> I.Expr:
        """`by name`: the step's action (in slot 2n) is one of the process's, or the action."""
        taken = [a for _, acts in self.family(name) for a in acts]
        taken += [a.index for a in self.actions if not a.process and a.name == name]
        who = I.Slot(2 * len(self.lay.slots))
        out: I.Expr = I.Const(False)
        for a in taken:
            test = I.Bin("==", who, I.Const(a))
            out = test if out == I.Const(False) else I.Bin("or", out, test)
        return out

    def liveness(self, d: A.LivenessDecl) -> list[I.Liveness]:
        out: list[I.Liveness] = []
        types = {p.name: self.cm.domains[id(p.domain)][0] for p in d.params}
        for shown, values in liveness_instances(self.cm, d):
            env = _Env(None)
            for name, v in values.items():
                env = env.with_bound(name, [I.Const(x) for x in flatten(types[name], v)])
            q = None if d.q is None else self.expr(d.q, env)[0]
            out.append(I.Liveness(d.kind, d.name, shown, self.expr(d.p, env)[0], q, d.span))
        return out

    def fairness(self) -> tuple[I.Fairness, ...]:
        """The fairness assumptions; a label that names no step (it labels an `if` or an `either`,
        whose steps are their branches') would make `fair action P.label` cover nothing: E043."""
        out = fairness_of(self.cm)
        for f in out:
            if f.family and f.action is not None and not any(f.covers(a) for a in self.actions):
                raise ModelError([Diagnostic(
                    "E043", f"`fair {f.what}`: the label names no step", f.span,
                    "it labels a statement that is no step of its own (an `if`, an `either`, or a label "
                    "under another label); label the statements inside it, or an `atomic` block around it")])
        return out

    def run(self) -> I.Program:
        for proc in self.cm.processes:
            for inst in proc.instances:
                self.process(proc, inst)
        for a in self.cm.actions:
            self.action(a)
        initial = self.initial_states()
        end_pcs = tuple((self.lay.pc_slot[(p.name, inst)], p.positions.number(END))
                        for p in self.cm.processes for inst in p.instances)
        return I.Program(
            layout=self.lay, actions=tuple(self.actions), initial=tuple(initial),
            invariants=tuple(self.prop(d) for d in self.cm.invariants),
            reachables=tuple(self.prop(d) for d in self.cm.reachables) + self.premises(self.cm.invariants),
            terminals=tuple(self.prop(d) for d in self.cm.terminals),
            asserts=tuple(self.asserts), choice_names=tuple(self.choice_names), end_pcs=end_pcs,
            choice_shown=tuple(sorted(self.choice_shown.items())),
            finals=tuple(self.prop(d) for d in self.cm.finals), end_goals=self.premises(self.cm.finals),
            liveness=tuple(x for d in self.cm.liveness for x in self.liveness(d)),
            fairness=self.fairness(),
            step_properties=tuple(I.StepProperty(d.name, self.expr(d.expr, _Env(None))[0], d.span)
                                  for d in self.cm.step_props))

    def initial_states(self) -> list[State]:
        """Every combination of initial values, in slot order."""
        parts: list[tuple[int, list[list[Value]]]] = []
        for var in self.cm.globals:
            place = self.lay.place(var, None)
            parts.append((place.base, [flatten(var.type, v) for v in var.init_values]))
        for proc in self.cm.processes:
            for inst in proc.instances:
                pc = self.lay.pc_slot[(proc.name, inst)]
                parts.append((pc, [[proc.positions.number(proc.positions.start)]]))
                for var in proc.locals.values():
                    place = self.lay.place(var, inst)
                    parts.append((place.base, [flatten(var.type, v) for v in var.init_values]))
        n = len(self.lay.slots)
        total = 1
        for _, choices in parts:
            total *= len(choices)
        if total > 1_000_000:
            raise ModelError([Diagnostic("E024", f"the model has {total} initial states; at most 1000000",
                                         Span(self.cm.ast.path, 1, 1, 1, 2))])
        if total == 0:  # (the checker refuses a variable without initial values): never a search of nothing
            raise ModelError([Diagnostic("E021", "the model has no initial state", Span(self.cm.ast.path, 1, 1, 1, 2))])
        states = []
        for combo in itertools.product(*(choices for _, choices in parts)):
            s: list[Value] = [0] * n
            for (base, _), values in zip(parts, combo, strict=True):
                s[base:base + len(values)] = values
            states.append(tuple(s))
        return states


def _negate(c: I.Expr) -> I.Expr:
    return I.Const(not c.value) if isinstance(c, I.Const) else I.Un("not", c)


def fairness_of(cm: CheckedModel) -> tuple[I.Fairness, ...]:
    """The model's fairness assumptions, one per process instance a `fair process` names."""
    out: list[I.Fairness] = []
    for d, index in cm.fairness:
        if d.target == "system":
            out.append(I.Fairness(d.strong, "system", d.span))
        elif d.target == "action" and d.label is None:
            out.append(I.Fairness(d.strong, f"action {d.name}", d.span, family="", action=d.name))
        elif d.label is not None:
            out.append(I.Fairness(d.strong, f"action {d.name}.{d.label}", d.span, family=d.name, action=d.label))
        else:
            proc = next(p for p in cm.processes if p.name == d.name)
            insts = proc.instances if index is None else (index,)
            out += [I.Fairness(d.strong, f"process {shown}", d.span, process=shown)
                    for shown in (instance_name(proc, i) for i in insts)]
    return tuple(out)


def liveness_instances(cm: CheckedModel, d: A.LivenessDecl) -> list[tuple[str, dict[str, Value]]]:
    """Each instance of a liveness property: how it is shown ("r = 1") and its parameters' values."""
    domains = [cm.domains[id(p.domain)] for p in d.params]
    out = []
    for combo in itertools.product(*(values or () for _, values in domains)):  # (constant: the checker)
        shown = ", ".join(f"{p.name} = {format_value(t, v)}" for p, (t, _), v in zip(d.params, domains, combo,
                                                                                     strict=True))
        out.append((shown, {p.name: v for p, v in zip(d.params, combo, strict=True)}))
    return out


def lower(cm: CheckedModel, layout: Layout) -> I.Program:
    return Lowerer(cm, layout).run()


def _first_block(stmts: Sequence[A.Stmt]) -> Span | None:
    """The span of the first `await` or `with ... where` in `stmts`, inner blocks included."""
    for s in stmts:
        if isinstance(s, A.Await) or (isinstance(s, A.With) and s.where is not None):
            return s.span
        inner: list[Sequence[A.Stmt]] = []
        if isinstance(s, A.If):
            inner = [s.then, s.orelse]
        elif isinstance(s, A.Either):
            inner = list(s.branches)
        elif isinstance(s, A.For | A.With | A.Atomic):
            inner = [s.body]
        elif isinstance(s, A.Labeled):
            inner = [(s.stmt,)]
        for block in inner:
            found = _first_block(block)
            if found is not None:
                return found
    return None
