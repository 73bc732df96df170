"""Stage 3 helper: sets, sequences and `choose` lowered to scalar IR.

Takes the `Lowerer` it serves (its expressions, locations and environment); gives the
lowering of QDL's finite collections. A set expression becomes an `LSet`: the candidate
elements it may hold (scalar parts each: constants for a type's values, expressions for a
literal's items) and a membership test, so that `x in {a, b}` is two comparisons and a
set variable is read bit by bit; a set is made into bits (one per value of the element type,
`layout.set_elements` order) only when it is stored or bound. A sequence is its parts: the
length, then `capacity` elements, the unused ones holding the element type's least value,
so that equal sequences have equal parts. A failure (the head of an empty sequence, an
append to a full one, an element outside a set's type, a `choose` with no value) is a
`Checked` of its kind, a runtime model error. Imports `compile.ir`, `compile.layout`,
`lang.ast`, `lang.types`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from quiesce_check.compile import ir as I
from quiesce_check.compile.bounds import may_fail
from quiesce_check.compile.layout import flatten, set_elements, slot_count, unflatten
from quiesce_check.lang import ast as A
from quiesce_check.lang.types import (
    TArray,
    TBool,
    TEnum,
    TInt,
    TNothing,
    TRecord,
    TSeq,
    TSet,
    Type,
    Value,
    format_value,
    least_value,
    scalar_values,
    value_key,
)

if TYPE_CHECKING:
    from quiesce_check.compile.lower import Lowerer, _Env

Parts = list[I.Expr]
TRUE: I.Expr = I.Const(True)
FALSE: I.Expr = I.Const(False)


@dataclass
class LSet:
    """A set as lowering sees it: candidates (each an element's scalar parts) and membership.

    `ordered`: the candidates are distinct constants in ascending value order."""

    cands: list[Parts]
    member: Callable[[Parts], I.Expr]
    ordered: bool = False


def _and(a: I.Expr, b: I.Expr) -> I.Expr:
    if a == TRUE:
        return b
    if b == TRUE:
        return a
    if a == FALSE or b == FALSE:
        return FALSE
    return I.Bin("and", a, b)


def _or(a: I.Expr, b: I.Expr) -> I.Expr:
    if a == FALSE:
        return b
    if b == FALSE:
        return a
    if a == TRUE or b == TRUE:
        return TRUE
    return I.Bin("or", a, b)


def _not(a: I.Expr) -> I.Expr:
    if isinstance(a, I.Const):
        return I.Const(not a.value)
    return I.Un("not", a)


def _all(terms: Sequence[I.Expr]) -> I.Expr:
    acc = TRUE
    for t in terms:
        acc = _and(acc, t)
    return acc


def _any(terms: Sequence[I.Expr]) -> I.Expr:
    acc = FALSE
    for t in terms:
        acc = _or(acc, t)
    return acc


def equal(xs: Parts, ys: Parts) -> I.Expr:
    """Whether two values of one type (as parts) are equal."""
    terms: list[I.Expr] = []
    for x, y in zip(xs, ys, strict=True):
        if isinstance(x, I.Const) and isinstance(y, I.Const):
            if int(x.value) != int(y.value):
                return FALSE
            continue
        terms.append(I.Bin("==", x, y))
    return _all(terms)


def _less(xs: Parts, ys: Parts) -> I.Expr:
    """Whether `xs` comes before `ys` in value order (lexicographic over the parts)."""
    acc = FALSE
    for x, y in reversed(list(zip(xs, ys, strict=True))):
        acc = _or(I.Bin("<", x, y), _and(I.Bin("==", x, y), acc))
    return acc


def consts(t: Type, v: Value) -> Parts:
    return [I.Const(x) for x in flatten(t, v)]


def pad(t: Type) -> Parts:
    """What an unused slot of a sequence of `t` holds: the least value; 0 for the unbounded integers
    and the no-type of a literal's elements (`<<1>>`, `<<>>`), whose slots are never stored as such."""
    if isinstance(t, TNothing) or (isinstance(t, TInt) and t.lo is None):
        return [I.Const(0)] * slot_count(t)
    return consts(t, least_value(t))


def evaluated_first(risky: Sequence[I.Expr], parts: Sequence[I.Expr]) -> Parts:
    """`parts`, each evaluated after every part of `risky` (parts that may fail): a value is
    computed whole, so a failure in a part it does not use is still a failure."""
    out = list(parts)
    for r in risky:
        out = [I.Ite(I.Bin("==", r, r), p, p) for p in out]
    return out


def guarded(check: I.Expr, parts: Sequence[I.Expr]) -> Parts:
    """`parts`, each evaluated after `check` (a `Checked` that must not fail)."""
    ok = I.Bin(">=", check, I.Const(0))
    return [I.Ite(ok, p, p) for p in parts]


class Collections:
    def __init__(self, low: Lowerer) -> None:
        self.low = low
        self.cm = low.cm

    def type_of(self, e: A.Expr) -> Type:
        return self.cm.types[id(e)]

    # ------------------------------------------------------------------ positions in a type
    def in_type(self, t: Type, parts: Parts) -> I.Expr:
        """Whether scalar parts are a value of the set element type `t` (each part in range)."""
        terms = []
        for part, (lo, hi, boolean) in zip(parts, _ranges(t), strict=True):
            if boolean:
                continue
            if isinstance(part, I.Const):
                if not lo <= int(part.value) <= hi:
                    return FALSE
                continue
            known = self.low.known(part)
            if known is not None and lo <= known[0] and known[1] <= hi:
                continue
            terms.append(_and(I.Bin(">=", part, I.Const(lo)), I.Bin("<=", part, I.Const(hi))))
        return _all(terms)

    def position(self, t: Type, parts: Parts) -> I.Expr:
        """The position of a value of `t` among `set_elements` (mixed radix over its parts)."""
        acc: I.Expr = I.Const(0)
        for part, (lo, hi, boolean) in zip(parts, _ranges(t), strict=True):
            p = I.Ite(part, I.Const(1), I.Const(0)) if boolean else part
            digit = p if lo == 0 else I.Bin("-", p, I.Const(lo))
            acc = digit if acc == I.Const(0) else I.Bin("+", I.Bin("*", acc, I.Const(hi - lo + 1)), digit)
        return acc

    # ------------------------------------------------------------------------- sets
    def from_bits(self, t: TSet, bits: Parts) -> LSet:
        elems = set_elements(t)
        cands = [consts(t.elem, v) for v in elems]

        def member(x: Parts) -> I.Expr:
            if all(isinstance(p, I.Const) for p in x):
                key = tuple(int(p.value) for p in x)  # type: ignore[union-attr]
                for c, bit in zip(cands, bits, strict=True):
                    if tuple(int(p.value) for p in c) == key:  # type: ignore[union-attr]
                        return bit
                return FALSE
            inside = self.in_type(t.elem, x)
            if inside == FALSE:
                return FALSE
            pos = self.position(t.elem, x)
            if all(isinstance(b, I.Slot) for b in bits):
                read: I.Expr = I.Table(tuple(b.index for b in bits if isinstance(b, I.Slot)), pos)
            else:
                read = _any([_and(I.Bin("==", pos, I.Const(k)), b) for k, b in enumerate(bits)])
            return _and(inside, read)
        return LSet(cands, member, ordered=True)

    def set_expr(self, e: A.Expr, env: _Env) -> LSet:
        """A set-valued expression as an `LSet`."""
        t = self.type_of(e)
        assert isinstance(t, TSet)
        if isinstance(e, A.SetLit):
            cands = [self.low.expr(x, env) for x in e.items]
            risky = self.risky([p for c in cands for p in c])
            return LSet(cands, lambda x: evaluated_first(risky, [_any([equal(x, c) for c in cands])])[0])
        if isinstance(e, A.SetFilter):
            return self._filter(e, env)
        if isinstance(e, A.SetMap):
            return self._map(e, env)
        if isinstance(e, A.Binary):
            return self._combine(e, env)
        if isinstance(e, A.IfExpr):
            (c,) = self.low.expr(e.cond, env)
            a, b = self.set_expr(e.then, env), self.set_expr(e.orelse, env)
            return LSet(a.cands + b.cands, lambda x: I.Ite(c, a.member(x), b.member(x)))
        if isinstance(e, A.Call) and id(e) not in self.cm.builtins:
            return self.low.inline_def_set(self.cm.calls[id(e)], e.args, env)
        if isinstance(e, A.Name) and id(e) in self.cm.refs and type(self.cm.refs[id(e)]).__name__ == "RDef":
            return self.low.inline_def_set(self.cm.refs[id(e)].routine, (), env)  # type: ignore[union-attr]
        return self.from_bits(t, self.low.expr(e, env))  # a variable, a constant, an element, a field

    def _filter(self, e: A.SetFilter, env: _Env) -> LSet:
        dom = self.domain(e.domain, env)
        et = self.cm.domains[id(e.domain)][0]

        def member(x: Parts) -> I.Expr:
            inside = self.domain_member(e.domain, x, env)
            if e.where is None or inside == FALSE:
                return inside
            (w,) = self.low.expr(e.where, self.low.bind(env, e.var, x, et))
            return _and(inside, w)
        ordered = all(g is None for _, g in dom) and self.cm.domains[id(e.domain)][1] is not None
        return LSet([c for c, _ in dom], member, ordered=ordered)

    def _map(self, e: A.SetMap, env: _Env) -> LSet:
        et = self.cm.domains[id(e.domain)][0]
        made: list[tuple[Parts, I.Expr]] = []
        for c, guard in self.domain(e.domain, env):
            inner = self.low.bind(env, e.var, c, et)
            cond = guard if guard is not None else TRUE
            if e.where is not None:
                (w,) = self.low.expr(e.where, inner)
                cond = _and(cond, w)
            image = self.low.expr(e.body, inner)
            if cond != TRUE:  # the image of a value outside the domain is never computed
                image = [I.Ite(cond, p, f) for p, f in zip(image, pad(self.type_of(e.body)), strict=True)]
            made.append((image, cond))
        return LSet([v for v, _ in made], lambda x: _any([_and(cond, equal(x, v)) for v, cond in made]))

    def _combine(self, e: A.Binary, env: _Env) -> LSet:
        a, b = self.set_expr(e.left, env), self.set_expr(e.right, env)
        if e.op == "union":
            return LSet(a.cands + b.cands, lambda x: _or(a.member(x), b.member(x)))
        if e.op == "minus":
            return LSet(a.cands, lambda x: _and(a.member(x), _not(b.member(x))), a.ordered)
        assert e.op == "intersect", e.op
        return LSet(a.cands, lambda x: _and(a.member(x), b.member(x)), a.ordered)

    def distinct(self, s: LSet) -> list[tuple[Parts, I.Expr]]:
        """Each candidate with the condition that it is in the set and no earlier one equals it."""
        out: list[tuple[Parts, I.Expr]] = []
        seen_consts: set[tuple[int, ...]] = set()
        for i, c in enumerate(s.cands):
            if all(isinstance(p, I.Const) for p in c):
                key = tuple(int(p.value) for p in c)  # type: ignore[union-attr]
                if key in seen_consts:
                    continue
                seen_consts.add(key)
            cond = s.member(c)
            if not s.ordered:
                for d in s.cands[:i]:
                    cond = _and(cond, _not(equal(c, d)))
            if cond != FALSE:
                out.append((c, cond))
        return out

    def to_bits(self, s: LSet, t: TSet, what: str) -> Parts:
        """A set stored as a `t`: one bit per value, after checking every element is one."""
        bits = [s.member(consts(t.elem, v)) for v in set_elements(t)]
        bad = FALSE
        for c in s.cands:
            outside = _not(self.in_type(t.elem, c))
            if outside != FALSE:
                bad = _or(bad, _and(outside, s.member(c)))
        if bad != FALSE and bits:
            check = I.Checked(I.Ite(bad, I.Const(1), I.Const(0)), 1, what, "element")
            bits = guarded(check, bits)
        return bits

    def card(self, s: LSet) -> I.Expr:
        terms = [cond for _, cond in self.distinct(s)]
        known = sum(1 for t in terms if isinstance(t, I.Const) and t.value)
        rest = tuple(t for t in terms if not isinstance(t, I.Const))
        if not rest:
            return I.Const(known)
        return I.Count(rest) if not known else I.Bin("+", I.Count(rest), I.Const(known))

    def set_binary(self, e: A.Binary, env: _Env) -> I.Expr:
        """`in`, `not in` (sets and sequences), `subset`, and `==`/`!=` of two sets."""
        if e.op in ("in", "not in"):
            x = self.low.expr(e.left, env)
            rt = self.type_of(e.right)
            found = self.seq_has(self.low.expr(e.right, env), rt, x) if isinstance(rt, TSeq) \
                else self.set_expr(e.right, env).member(x)
            for part in x:  # the element is evaluated whatever the set: a failure in it is one
                if may_fail(part, self.low.slot_ranges, self.low.choice_bounds):
                    found = I.Ite(I.Bin("==", part, part), found, found)
            return found if e.op == "in" else _not(found)
        a, b = self.set_expr(e.left, env), self.set_expr(e.right, env)
        if e.op == "subset":
            return _all([_or(_not(a.member(c)), b.member(c)) for c in a.cands])
        same = _all([I.Bin("==", a.member(c), b.member(c)) for c in a.cands + b.cands])
        return same if e.op == "==" else _not(same)

    # ---------------------------------------------------------------------- domains
    def domain(self, d: A.Domain, env: _Env) -> list[tuple[Parts, I.Expr | None]]:
        """The values a bound name takes over domain `d`: each one's parts and the condition
        under which it is one (None: always), in ascending order where the order is known."""
        et, values = self.cm.domains[id(d)]
        if values is not None:
            return [(consts(et, v), None) for v in values]
        s = self.set_expr(self.cm.domain_exprs[id(d)], env)
        return [(c, cond) for c, cond in self.distinct(s)]

    def domain_member(self, d: A.Domain, x: Parts, env: _Env) -> I.Expr:
        et, values = self.cm.domains[id(d)]
        if values is None:
            return self.set_expr(self.cm.domain_exprs[id(d)], env).member(x)
        if isinstance(d, A.TYPE_NODES) and not isinstance(d, A.NamedType) or set(values) == set(_all_of(et)):
            return self.in_type(et, x) if _finite(et) else TRUE
        return _any([equal(x, consts(et, v)) for v in values])

    def ordered_domain(self, d: A.Domain, env: _Env) -> tuple[list[tuple[Parts, I.Expr | None]], bool]:
        """`domain`, and whether its values come in ascending order (a literal's may not)."""
        et, values = self.cm.domains[id(d)]
        if values is not None:
            return [(consts(et, v), None) for v in sorted(values, key=lambda v: value_key(et, v))], True
        s = self.set_expr(self.cm.domain_exprs[id(d)], env)
        return [(c, cond) for c, cond in self.distinct(s)], s.ordered

    def ascending(self, d: A.Domain, env: _Env) -> list[tuple[Parts, I.Expr | None]]:
        """A domain's values in ascending order whatever the state (a `for` visits them so): a set
        whose candidates are computed (`{x, y}`) is read through its element type's values."""
        dom, ordered = self.ordered_domain(d, env)
        if ordered:
            return dom
        et = self.cm.domains[id(d)][0]
        s = self.set_expr(self.cm.domain_exprs[id(d)], env)
        out: list[tuple[Parts, I.Expr | None]] = []
        for v in set_elements(TSet(et)):
            c = consts(et, v)
            cond = s.member(c)
            if cond != FALSE:
                out.append((c, cond))
        return out

    def choose(self, e: A.Choose, env: _Env) -> Parts:
        """The least value of the domain that satisfies `where`; a model error if none does."""
        et = self.cm.domains[id(e.domain)][0]
        dom, ordered = self.ordered_domain(e.domain, env)
        options: list[tuple[Parts, I.Expr]] = []
        for c, guard in dom:
            cond = guard if guard is not None else TRUE
            if e.where is not None:
                (w,) = self.low.expr(e.where, self.low.bind(env, e.var, c, et))
                cond = _and(cond, w)
            options.append((c, cond))
        if not ordered:  # the least of those that qualify: no qualifying one below it
            options = [(c, _all([cond] + [_or(_not(dc), _not(_less(d, c))) for d, dc in options if d is not c]))
                       for c, cond in options]
        n = max(1, len(options))
        fail = I.Checked(I.Const(n), n, self.low.what(e), "choose")
        width = slot_count(et)
        out: Parts = []
        for j in range(width):
            acc: I.Expr = fail
            for c, cond in reversed(options):
                acc = c[j] if cond == TRUE else I.Ite(cond, c[j], acc)
            out.append(acc)
        if not options:
            out = [fail] * width
        return out

    def pick(self, name: str, dom: list[tuple[Parts, I.Expr | None]], et: Type
             ) -> tuple[int, tuple[int, ...], Parts, I.Expr | None]:
        """A choice among a domain's values: the choice variable, the values it takes, the parts
        of the value chosen and the condition that it is one (None: every one is)."""
        scalar = slot_count(et) == 1 and all(isinstance(c[0], I.Const) for c, _ in dom)
        keys = [int(c[0].value) for c, _ in dom] if scalar else list(range(len(dom)))  # type: ignore[union-attr]
        var = self.low.new_choice(name, keys)
        chosen = I.Chosen(var)

        def select(options: list[I.Expr], default: I.Expr) -> I.Expr:
            acc = default
            for k, x in reversed(list(zip(keys, options, strict=True))):
                acc = I.Ite(I.Bin("==", chosen, I.Const(k)), x, acc)
            return acc
        if not scalar and all(isinstance(p, I.Const) for c, _ in dom for p in c):
            self.low.choice_shown[var] = tuple(
                format_value(et, unflatten(et, [p.value for p in c if isinstance(p, I.Const)])) for c, _ in dom)
        if scalar:
            parts: Parts = [chosen]
        else:
            parts = [select([c[j] for c, _ in dom], dom[-1][0][j]) if dom else I.Const(0)
                     for j in range(slot_count(et))]
        cond = None if all(g is None for _, g in dom) else select([g or TRUE for _, g in dom], FALSE)
        return var, tuple(keys), parts, cond

    # -------------------------------------------------------------------- sequences
    def seq_items(self, t: TSeq, parts: Parts) -> list[Parts]:
        k = slot_count(t.elem)
        return [parts[1 + i * k:1 + (i + 1) * k] for i in range(t.capacity)]

    def seq_has(self, parts: Parts, t: Type, x: Parts) -> I.Expr:
        assert isinstance(t, TSeq)
        n = parts[0]
        return _any([_and(I.Bin(">", n, I.Const(i)), equal(item, x))
                     for i, item in enumerate(self.seq_items(t, parts))])

    def seq_lit(self, e: A.SeqLit, env: _Env) -> Parts:
        t = self.type_of(e)
        assert isinstance(t, TSeq)
        out: Parts = [I.Const(len(e.items))]
        for x in e.items:
            out += self.coerce(self.low.expr(x, env), self.type_of(x), t.elem, self.low.what(x))
        return out

    def builtin(self, e: A.Call, env: _Env) -> Parts:
        name = self.cm.builtins[id(e)]
        if name == "finished":
            return [self.low.finished(e.args[0], env)]
        if name == "card":
            return [self.card(self.set_expr(e.args[0], env))]
        t = self.type_of(e.args[0])
        assert isinstance(t, TSeq)
        q = self.low.expr(e.args[0], env)
        return evaluated_first(self.risky(q), self._seq_builtin(name, e, t, q, env))

    def risky(self, parts: Sequence[I.Expr]) -> list[I.Expr]:
        """The parts whose evaluation may fail."""
        return [p for p in parts if may_fail(p, self.low.slot_ranges, self.low.choice_bounds)]

    def _seq_builtin(self, name: str, e: A.Call, t: TSeq, q: Parts, env: _Env) -> Parts:
        what = self.low.what(e)
        if name == "len":
            return [q[0]]
        items = self.seq_items(t, q)
        fill = pad(t.elem)
        if name in ("head", "tail"):
            check = I.Checked(I.Bin("-", q[0], I.Const(1)), max(1, t.capacity), what, "empty")
            if name == "head":
                return guarded(check, items[0] if items else fill)
            shifted = [x for item in items[1:] for x in item] + (fill if items else [])
            return guarded(check, [I.Bin("-", q[0], I.Const(1)), *shifted])
        if name == "append":
            v = self.coerce(self.low.expr(e.args[1], env), self.type_of(e.args[1]), t.elem, what)
            check = I.Checked(q[0], t.capacity, what, "full") if t.capacity else \
                I.Checked(I.Const(0), 0, what, "full")
            new = [I.Ite(I.Bin("==", q[0], I.Const(i)), a, b) for i, item in enumerate(items)
                   for a, b in zip(v, item, strict=True)]
            return guarded(check, [I.Bin("+", q[0], I.Const(1)), *new])
        assert name == "remove", name
        (i,) = self.low.expr(e.args[1], env)
        pos = I.Checked(I.Ite(I.Bin("<", i, q[0]), i, I.Const(t.capacity)), t.capacity, what, "seqindex")
        nxt = items[1:] + [fill]
        new = [I.Ite(I.Bin("<", I.Const(j), i), a, b) for j, item in enumerate(items)
               for a, b in zip(item, nxt[j], strict=True)]
        return guarded(pos, [I.Bin("-", q[0], I.Const(1)), *new])

    def seq_position(self, t: TSeq, length: I.Expr, i: I.Expr, what: str) -> I.Expr:
        """The checked position of element `i` of a sequence of length `length`."""
        return I.Checked(I.Ite(I.Bin("<", i, length), i, I.Const(t.capacity)), t.capacity, what, "seqindex")

    # -------------------------------------------------------------------- coercion
    def coerce(self, parts: Parts, src: Type, dst: Type, what: str) -> Parts:
        """A value of type `src` (as parts) as a value of type `dst` (their shapes may differ only
        through sets and sequences: a sequence's capacity, a set's element type)."""
        if isinstance(dst, TSeq) and isinstance(src, TSeq):
            return self._coerce_seq(parts, src, dst, what)
        if isinstance(dst, TSet) and isinstance(src, TSet):
            if src == dst:
                return parts
            return self.to_bits(self.from_bits(src, parts) if not isinstance(src.elem, TNothing)
                                else LSet([], lambda x: FALSE), dst, what)
        if isinstance(dst, TArray) and isinstance(src, TArray):
            k, m = slot_count(src.elem), len(scalar_values(dst.index))
            return [x for i in range(m)
                    for x in self.coerce(parts[i * k:(i + 1) * k], src.elem, dst.elem, what)]
        if isinstance(dst, TRecord) and isinstance(src, TRecord):
            out: Parts = []
            pos = 0
            for (_, st), (_, dt) in zip(src.fields, dst.fields, strict=True):
                n = slot_count(st)
                out += self.coerce(parts[pos:pos + n], st, dt, what)
                pos += n
            return out
        return parts

    def _coerce_seq(self, parts: Parts, src: TSeq, dst: TSeq, what: str) -> Parts:
        if src == dst:
            return parts
        items = self.seq_items(src, parts) if not isinstance(src.elem, TNothing) else []
        out: Parts = [parts[0]]
        for j in range(dst.capacity):
            if j < len(items):
                out += self.coerce(items[j], src.elem, dst.elem, what)
            else:
                out += pad(dst.elem)
        if src.capacity > dst.capacity:
            check = I.Checked(parts[0], dst.capacity + 1, what, "capacity")
            return guarded(check, out)
        return out


def _ranges(t: Type) -> list[tuple[int, int, bool]]:
    """The (lo, hi, whether boolean) of each scalar part of a value of `t`."""
    if isinstance(t, TBool):
        return [(0, 1, True)]
    if isinstance(t, TEnum):
        return [(0, len(t.members) - 1, False)]
    if isinstance(t, TInt):
        assert t.lo is not None and t.hi is not None
        return [(t.lo, t.hi, False)]
    if isinstance(t, TArray):
        return _ranges(t.elem) * len(scalar_values(t.index))
    assert isinstance(t, TRecord), t
    return [r for _, ft in t.fields for r in _ranges(ft)]


def _finite(t: Type) -> bool:
    return not (isinstance(t, TInt) and t.lo is None)


def _all_of(t: Type) -> Any:
    from quiesce_check.lang.types import all_values
    return all_values(t) if _finite(t) else ()
