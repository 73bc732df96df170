"""The reference interpreter: slow, direct, obviously correct.

Takes a `CheckedModel` and its `Layout`; gives a `Model` that steps by walking
the AST itself: structured values (tuples for arrays and records), a process's
program counter as a position of `lang.positions`, sequential execution of
atomic blocks with every choice enumerated. Sets are frozensets and sequences
tuples, as the checker's constant evaluation has them. It shares no code with
`compile.lower` or `compile.pygen`; tests hold the two to identical state
graphs. Only the layout (which slot holds what) and the checker's meaning of
the operators and built-ins are common. Imports `lang.*`, `compile.layout`,
`compile.model`, `compile.ir`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from quiesce_check.compile import ir as I
from quiesce_check.compile.layout import Layout, State, flatten, instance_name, unflatten
from quiesce_check.compile.lower import fairness_of, liveness_instances
from quiesce_check.compile.model import AssertFailure, ModelInfo, StepError, Successor
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
    VarInfo,
    apply_binary,
)
from quiesce_check.lang.checker.evaluate import Fault, apply_builtin
from quiesce_check.lang.positions import END, Key
from quiesce_check.lang.types import (
    TArray,
    TBool,
    TEnum,
    TInt,
    TRecord,
    TSeq,
    TSet,
    Type,
    Value,
    format_value,
    index_position,
    value_key,
)

Inst = tuple[ProcInfo, object]


@dataclass
class _St:
    """A state while a step runs: variable values by (variable, instance), positions by instance."""

    vals: dict[tuple[int, object], Value]
    pcs: dict[tuple[str, object], Key]

    def copy(self) -> _St:
        return _St(dict(self.vals), dict(self.pcs))


@dataclass
class _Place:
    """An assignment's target: its variable (`key`), the positions down to the part assigned
    (each flagged when it indexes a sequence, whose length it must be under) and the part's type."""

    target: A.Expr
    key: tuple[int, object]
    type: Type
    path: list[tuple[int, bool]]


class _Ctx:
    def __init__(self, action: int, choices: tuple[Any, ...], after: _St | None = None) -> None:
        self.action = action
        self.choices = choices
        self.after = after  # a step property's: the state after the step (what `x'` reads)


class _Thunk:
    """A def's argument, evaluated where (and if) the body uses it, as inlining does."""

    def __init__(self, run: Any) -> None:
        self.run = run

    def force(self) -> Value:
        return self.run()


class ReferenceModel:
    def __init__(self, cm: CheckedModel, layout: Layout) -> None:
        self.cm = cm
        self.lay = layout
        self.vars: list[tuple[VarInfo, object]] = [(v, None) for v in cm.globals]
        for p in cm.processes:
            for inst in p.instances:
                self.vars += [(v, inst) for v in p.locals.values()]
        self.action_table: list[I.Action] = []
        self.action_ids: dict[tuple[Any, ...], int] = {}
        self.choice_names: list[str] = []
        # what a bare name in a domain may name besides a bound name, a local or a const
        self.global_names = {v.name: v for v in cm.globals}
        self.plain_defs = {d.name: d for d in cm.ast.decls if isinstance(d, A.DefDecl) and not d.params}
        self.choice_ids: dict[int, int] = {}
        self.asserts: list[I.AssertInfo] = []
        self.assert_ids: dict[int, int] = {}
        dummy = I.Const(True)
        # goals, then the premises of the invariants (the compiled model's order)
        self.goals: list[A.Expr] = [d.expr for d in cm.reachables] + [
            cm.premises[d.name] for d in cm.invariants if d.name in cm.premises]
        self.end_goals: list[A.Expr] = [cm.premises[d.name] for d in cm.finals if d.name in cm.premises]
        self.program = None  # interpreted from the checked model itself, not from the IR
        self.info = ModelInfo(layout, self.action_table,
                              [I.Property(d.kind, d.name, dummy, d.span) for d in cm.invariants],
                              [I.Property("reachable", d.name, dummy, d.span) for d in cm.reachables]
                              + [I.Property("premise", d.name, dummy, d.span) for d in cm.invariants
                                 if d.name in cm.premises],
                              self.asserts, self.choice_names,
                              [I.Property("final", d.name, dummy, d.span) for d in cm.finals],
                              [I.Property("premise", d.name, dummy, d.span) for d in cm.finals
                               if d.name in cm.premises],
                              [I.Liveness(d.kind, d.name, shown, dummy, None, d.span) for d in cm.liveness
                               for shown, _ in liveness_instances(cm, d)],
                              fairness_of(cm),
                              [I.StepProperty(d.name, dummy, d.span) for d in cm.step_props])

    # state conversion -------------------------------------------------------
    def decode(self, s: State) -> _St:
        vals = {}
        for var, inst in self.vars:
            p = self.lay.place(var, inst)
            vals[(id(var), inst)] = unflatten(var.type, s[p.base:p.base + p.count])
        pcs = {}
        for proc, inst in self.lay.instances:
            pcs[(proc.name, inst)] = proc.positions.keys[s[self.lay.pc_slot[(proc.name, inst)]]]
        return _St(vals, pcs)

    def encode(self, st: _St) -> State:
        out: list[Value] = [0] * len(self.lay.slots)
        for var, inst in self.vars:
            p = self.lay.place(var, inst)
            out[p.base:p.base + p.count] = flatten(var.type, st.vals[(id(var), inst)])
        for proc, inst in self.lay.instances:
            out[self.lay.pc_slot[(proc.name, inst)]] = proc.positions.number(st.pcs[(proc.name, inst)])
        return tuple(out)

    def initial_states(self) -> Sequence[State]:
        choices = [var.init_values for var, _ in self.vars]
        out = []
        for combo in itertools.product(*choices):
            vals = {(id(var), inst): v for (var, inst), v in zip(self.vars, combo, strict=True)}
            pcs = {(p.name, inst): p.positions.start for p, inst in self.lay.instances}
            s = self.encode(_St(vals, pcs))
            if s not in out:
                out.append(s)
        return out

    # ids ------------------------------------------------------------------------
    def action_id(self, key: tuple[Any, ...], name: str, process: str, span: Any,
                  pc: tuple[int, int] | None = None) -> int:
        """The number of a step (`pc`: its process's program-counter slot and where it starts)."""
        if key not in self.action_ids:
            self.action_ids[key] = len(self.action_table)
            self.action_table.append(I.Action(len(self.action_table), name, process, name, span,
                                              None if pc is None else pc[0], None if pc is None else pc[1], (), ()))
        return self.action_ids[key]

    def choice_id(self, node: object, name: str) -> int:
        if id(node) not in self.choice_ids:
            self.choice_ids[id(node)] = len(self.choice_names)
            self.choice_names.append(name)
        return self.choice_ids[id(node)]

    def assert_id(self, s: A.Assert) -> int:
        if id(s) not in self.assert_ids:
            self.assert_ids[id(s)] = len(self.asserts)
            self.asserts.append(I.AssertInfo(len(self.asserts), "assert", s.span))
        return self.assert_ids[id(s)]

    # expressions ---------------------------------------------------------------
    def ev(self, e: A.Expr, st: _St, env: dict[str, Value], inst: Inst | None, ctx: _Ctx) -> Value:
        if isinstance(e, A.IntLit | A.BoolLit):
            return e.value
        if isinstance(e, A.Name):
            ref = self.cm.refs[id(e)]
            if isinstance(ref, RConst):
                return ref.value
            if isinstance(ref, RBound):
                v = env[e.name]
                return v.force() if isinstance(v, _Thunk) else v
            if isinstance(ref, RDef):
                return self.call_def(ref.routine, (), st, env, inst, ctx)
            assert isinstance(ref, RVar)
            return st.vals[(id(ref.var), inst[1] if ref.var.owner is not None and inst else None)]
        if isinstance(e, A.Unary):
            v = self.ev(e.operand, st, env, inst, ctx)
            return (not v) if e.op == "not" else -v
        if isinstance(e, A.Binary):
            a = self.ev(e.left, st, env, inst, ctx)
            if e.op == "and" and not a:
                return False
            if e.op == "or" and a:
                return True
            if e.op == "=>" and not a:
                return True
            b = self.ev(e.right, st, env, inst, ctx)
            if e.op in ("/", "%") and b == 0:
                raise StepError(ctx.action, ctx.choices, f"division by zero at {e.span}")
            return apply_binary(e.op, a, b)
        if isinstance(e, A.IfExpr):
            c = self.ev(e.cond, st, env, inst, ctx)
            return self.ev(e.then if c else e.orelse, st, env, inst, ctx)
        if isinstance(e, A.Quant):
            values = self.domain_values(e.domain, st, env, inst, ctx)
            results = [bool(self.ev(e.body, st, {**env, e.var: v}, inst, ctx)) for v in values]
            if e.kind == "forall":
                return all(results)
            if e.kind == "exists":
                return any(results)
            return sum(results)
        if isinstance(e, A.ArrayLit):
            return tuple(self.ev(x, st, env, inst, ctx) for x in e.items)
        if isinstance(e, A.ArrayComp):
            values = self.domain_values(e.domain, st, env, inst, ctx)
            return tuple(self.ev(e.body, st, {**env, e.var: v}, inst, ctx) for v in values)
        if isinstance(e, A.RecordLit):
            return tuple(self.ev(x, st, env, inst, ctx) for _, x in e.fields)
        return self.ev_access(e, st, env, inst, ctx)

    def ev_access(self, e: A.Expr, st: _St, env: dict[str, Value], inst: Inst | None, ctx: _Ctx) -> Value:
        """Fields, indexing, positions, calls, and what only a step property reads."""
        if isinstance(e, A.Field):
            if id(e) in self.cm.qualified:
                return self.cm.qualified[id(e)][0]
            if id(e) in self.cm.proc_fields:
                var = self.cm.proc_fields[id(e)]
                target = self.instance_of(e.base, st, env, inst, ctx)
                return st.vals[(id(var), target[1])]
            base = self.ev(e.base, st, env, inst, ctx)
            bt = self.cm.type_of(e.base)
            assert isinstance(bt, TRecord) and isinstance(base, tuple)
            return base[[n for n, _ in bt.fields].index(e.name)]
        if isinstance(e, A.Index):
            base = self.ev(e.base, st, env, inst, ctx)
            bt = self.cm.type_of(e.base)
            idx = self.ev(e.index, st, env, inst, ctx)
            if isinstance(bt, TSeq):
                return base[self.seq_position(base, idx, e, ctx)]
            assert isinstance(bt, TArray) and isinstance(base, tuple)
            return base[self.position(bt, idx, e, ctx)]
        if isinstance(e, A.At):
            target = self.instance_of(e.process, st, env, inst, ctx)
            return self.at_label(st, target, target[0].positions.labels[e.label], ctx)
        if isinstance(e, A.Call):
            if id(e) in self.cm.builtins:
                return self.builtin(e, st, env, inst, ctx)
            return self.call_def(self.cm.calls[id(e)], e.args, st, env, inst, ctx)
        if isinstance(e, A.Prime):
            assert ctx.after is not None
            return self.ev(e.base, ctx.after, env, inst, _Ctx(ctx.action, ctx.choices))
        if isinstance(e, A.By):
            call = self.cm.by_calls.get(id(e))
            if call is not None:
                return self.ev(call, st, env, inst, ctx)
            taken = self.action_table[ctx.action]
            return taken.process.split("[", 1)[0] == e.name or (not taken.process and taken.name == e.name)
        return self.ev_collection(e, st, env, inst, ctx)

    def ev_collection(self, e: A.Expr, st: _St, env: dict[str, Value], inst: Inst | None, ctx: _Ctx) -> Value:
        """Set and sequence literals, comprehensions and `choose`."""
        if isinstance(e, A.SetLit):
            return frozenset(self.ev(x, st, env, inst, ctx) for x in e.items)
        if isinstance(e, A.SeqLit):
            return tuple(self.ev(x, st, env, inst, ctx) for x in e.items)
        if isinstance(e, A.SetFilter | A.SetMap | A.Choose):
            values = self.domain_values(e.domain, st, env, inst, ctx)
            if isinstance(e, A.Choose):
                # least first (a constant set literal's values come in the order written)
                elem = self.cm.domains[id(e.domain)][0]
                values = tuple(sorted(values, key=lambda v: value_key(elem, v)))
            picked = []
            for v in values:
                inner = {**env, e.var: v}
                if e.where is None or self.ev(e.where, st, inner, inst, ctx):
                    if isinstance(e, A.Choose):
                        return v
                    picked.append(self.ev(e.body, st, inner, inst, ctx) if isinstance(e, A.SetMap) else v)
            if isinstance(e, A.Choose):
                raise StepError(ctx.action, ctx.choices, f"`choose` found no value at {e.span}")
            return frozenset(picked)
        raise AssertionError(e)

    def domain_values(self, d: A.Domain, st: _St, env: dict[str, Value], inst: Inst | None,
                      ctx: _Ctx) -> tuple[Value, ...]:
        """What a bound name ranges over: the checker's values for a fixed domain; for a set the
        state holds, the set's value here, least value first."""
        elem, values = self.cm.domains[id(d)]
        if values is not None:
            return values
        if isinstance(d, A.NamedType):
            s = self.named_value(d.name, st, env, inst, ctx)
        else:
            assert not isinstance(d, A.TYPE_NODES)
            s = self.ev(d, st, env, inst, ctx)
        assert isinstance(s, frozenset)
        return tuple(sorted(s, key=lambda v: value_key(elem, v)))

    def named_value(self, name: str, st: _St, env: dict[str, Value], inst: Inst | None, ctx: _Ctx) -> Value:
        """The value a bare name in a domain stands for, looked up as the checker looks up a name:
        a bound name, a local of the process, a const, a global, a def without parameters."""
        if name in env:
            v = env[name]
            return v.force() if isinstance(v, _Thunk) else v
        if inst is not None and name in inst[0].locals:
            return st.vals[(id(inst[0].locals[name]), inst[1])]
        if name in self.cm.consts:
            return self.cm.consts[name][0]
        if name in self.global_names:
            return st.vals[(id(self.global_names[name]), None)]
        return self.ev(self.plain_defs[name].body, st, {}, None, ctx)

    def builtin(self, e: A.Call, st: _St, env: dict[str, Value], inst: Inst | None, ctx: _Ctx) -> Value:
        name = self.cm.builtins[id(e)]
        if name == "finished":
            return all(st.pcs[(p.name, iv)] == END for p, iv in self.instances_named(e.args[0], st, env, inst, ctx))
        args = [self.ev(a, st, env, inst, ctx) for a in e.args]
        try:
            return apply_builtin(name, args, self.cm.type_of(e.args[0]))
        except Fault as exc:
            raise StepError(ctx.action, ctx.choices, f"{exc.message} at {e.span}") from None

    def instances_named(self, e: A.Expr, st: _St, env: dict[str, Value], inst: Inst | None,
                        ctx: _Ctx) -> list[Inst]:
        """`P` (every instance of P) or `P[i]` (one)."""
        if isinstance(e, A.Name):
            ref = self.cm.refs[id(e)]
            assert isinstance(ref, RProc)
            return [(ref.proc, iv) for iv in ref.proc.instances]
        return [self.instance_of(e, st, env, inst, ctx)]

    def call_def(self, info: RoutineInfo, args: Sequence[A.Expr], st: _St, env: dict[str, Value],
                 inst: Inst | None, ctx: _Ctx) -> Value:
        d = info.decl
        assert isinstance(d, A.DefDecl)
        inner: dict[str, Value] = {}
        for (name, _), a in zip(info.params, args, strict=True):
            inner[name] = _Thunk(lambda a=a: self.ev(a, st, env, inst, ctx))
        # a def is checked outside any process: its body names no process's locals
        return self.ev(d.body, st, inner, None, ctx)

    def at_label(self, st: _St, inst: Inst, targets: set[Key], ctx: _Ctx) -> bool:
        """Whether one of `targets` is on one of the paths from the instance's position to its next
        step whose conditions all hold. Paths are tried in order (an `if`'s then-branch
        first, a loop's body before its exit, `either` branches in turn), and only the
        conditions of paths through `target` are evaluated, left to right."""
        proc, iv = inst
        pos = proc.positions
        env = {proc.decl.index_var: iv} if proc.decl.index_var is not None else {}
        control = (A.If, A.While, A.Either)

        def walk(key: Key, visited: frozenset[Key]) -> Iterator[tuple[list[tuple[A.Expr, Key, bool]], set[Key]]]:
            """Every path from `key`: its conditions (expression, where, negated) and positions."""
            if key == END:
                yield [], {END}
                return
            s = pos.stmt[key]

            def go(nxt: Key, cond: list[tuple[A.Expr, Key, bool]]) -> Iterator[tuple[list, set[Key]]]:
                if nxt in visited:
                    yield cond, {key, nxt}
                    return
                more = visited | {nxt} if nxt != END and isinstance(pos.stmt[nxt], control) else visited
                for conds, keys in walk(nxt, more):
                    yield cond + conds, keys | {key}

            if isinstance(s, A.If):
                yield from go(pos.branches[key][0], [(s.cond, key, False)])
                yield from go(pos.branches[key][1], [(s.cond, key, True)])
            elif isinstance(s, A.While):
                yield from go(pos.branches[key][0], [(s.cond, key, False)])
                yield from go(pos.after[key], [(s.cond, key, True)])
            elif isinstance(s, A.Either):
                for b in pos.branches[key]:
                    yield from go(b, [])
            else:
                yield [], {key}

        start = st.pcs[(proc.name, iv)]
        first = frozenset({start}) if start != END and isinstance(pos.stmt[start], control) else frozenset()
        for conds, keys in walk(start, first):
            if not targets & keys:
                continue
            if all(bool(self.ev(e, st, {**env, **pos.binds.get(k, {})}, inst, ctx)) != neg
                   for e, k, neg in conds):
                return True
        return False

    def position(self, bt: TArray, idx: Value, e: A.Expr, ctx: _Ctx) -> int:
        p = index_position(bt.index, idx)
        if p < 0:
            raise StepError(ctx.action, ctx.choices, f"index {idx} out of range at {e.span}")
        return p

    def seq_position(self, seq: tuple[Value, ...], idx: Value, e: A.Expr, ctx: _Ctx) -> int:
        if not 0 <= int(idx) < len(seq):
            raise StepError(ctx.action, ctx.choices, f"index {idx} of a sequence of length {len(seq)} at {e.span}")
        return int(idx)

    def instance_of(self, e: A.Expr, st: _St, env: dict[str, Value], inst: Inst | None, ctx: _Ctx) -> Inst:
        if isinstance(e, A.Name):
            ref = self.cm.refs[id(e)]
            assert isinstance(ref, RProc)
            return (ref.proc, None)
        assert isinstance(e, A.Index) and isinstance(e.base, A.Name)
        ref = self.cm.refs[id(e.base)]
        assert isinstance(ref, RProc) and ref.proc.index_type is not None
        v = self.ev(e.index, st, env, inst, ctx)
        if v not in ref.proc.index_values:
            raise StepError(ctx.action, ctx.choices, f"no instance {v} of process {ref.proc.name}")
        return (ref.proc, v)

    # assignment --------------------------------------------------------------------
    def place(self, target: A.Expr, st: _St, env: dict[str, Value], inst: Inst | None,
              ctx: _Ctx) -> _Place:
        """Where an assignment stores: its variable and the path down to the part assigned, every
        index evaluated now."""
        path: list[tuple[int, bool]] = []
        node = target
        while isinstance(node, A.Index | A.Field):
            bt = self.cm.type_of(node.base)
            if isinstance(node, A.Index):
                idx = self.ev(node.index, st, env, inst, ctx)
                # a sequence's index is checked against its length when the value is stored
                if isinstance(bt, TSeq):
                    path.append((int(idx), True))
                else:
                    assert isinstance(bt, TArray)
                    path.append((self.position(bt, idx, node, ctx), False))
            else:
                assert isinstance(bt, TRecord)
                path.append(([n for n, _ in bt.fields].index(node.name), False))
            node = node.base
        assert isinstance(node, A.Name)
        ref = self.cm.refs[id(node)]
        assert isinstance(ref, RVar)
        key = (id(ref.var), inst[1] if ref.var.owner is not None and inst else None)
        return _Place(target, key, self.cm.type_of(target), path[::-1])

    def store(self, p: _Place, value: Value, st: _St, ctx: _Ctx) -> None:
        if not _fits(p.type, value):
            raise StepError(ctx.action, ctx.choices,
                            f"{_text(p.target)} := {_shown(p.type, value)} is outside its type {p.type}")
        cur = st.vals[p.key]
        for i, is_seq in p.path:
            if is_seq and not 0 <= i < len(cur):
                raise StepError(ctx.action, ctx.choices, f"{_text(p.target)}: index {i} of a sequence of "
                                f"length {len(cur)} at {p.target.span}")
            cur = cur[i]
        st.vals[p.key] = _update(st.vals[p.key], [i for i, _ in p.path], value)

    def assign(self, s: A.Assign, st: _St, env: dict[str, Value], inst: Inst | None, ctx: _Ctx) -> None:
        value = self.ev(s.value, st, env, inst, ctx)
        self.store(self.place(s.target, st, env, inst, ctx), value, st, ctx)

    def send(self, s: A.Send, st: _St, env: dict[str, Value], inst: Inst | None,
             ctx: _Ctx) -> list[tuple[_St, tuple[Any, ...]]]:
        """`send q, v;`: blocked while q is full, else q := q + <<v>>."""
        q = self.ev(s.queue, st, env, inst, ctx)
        qt = self.cm.type_of(s.queue)
        assert isinstance(qt, TSeq)
        if len(q) >= qt.capacity:
            return []
        value = self.ev(s.value, st, env, inst, ctx)
        new = st.copy()
        self.store(self.place(s.queue, new, env, inst, ctx), (*q, value), new, ctx)
        return [(new, ctx.choices)]

    def receive(self, s: A.Receive, st: _St, env: dict[str, Value], inst: Inst | None,
                ctx: _Ctx) -> list[tuple[_St, tuple[Any, ...]]]:
        """`receive q -> x;`: blocked while q is empty, else x := head(q), then q := tail(q), both
        places and both values taken before either is stored."""
        q = self.ev(s.queue, st, env, inst, ctx)
        if not q:
            return []
        new = st.copy()
        queue, target = self.place(s.queue, st, env, inst, ctx), self.place(s.target, st, env, inst, ctx)
        self.store(target, q[0], new, ctx)
        self.store(queue, q[1:], new, ctx)
        return [(new, ctx.choices)]

    # statements ----------------------------------------------------------------------
    def run_block(self, stmts: Sequence[A.Stmt], st: _St, env: dict[str, Value], inst: Inst | None,
                  ctx: _Ctx) -> list[tuple[_St, tuple[Any, ...]]]:
        """Every outcome of running `stmts` as one step: (state, choices) pairs; [] if blocked."""
        if not stmts:
            return [(st, ctx.choices)]
        s, rest = stmts[0], stmts[1:]
        if isinstance(s, A.Let):
            # the value as it is at this point of the step; the rest of the block sees it
            inner = {**env, s.name: self.ev(s.value, st, env, inst, ctx)}
            return self.run_block(rest, st, inner, inst, ctx)
        out = []
        for cur, choices in self.run_stmt(s, st, env, inst, ctx):
            out += self.run_block(rest, cur, env, inst, _Ctx(ctx.action, choices))
        return out

    def run_stmt(self, s: A.Stmt, st: _St, env: dict[str, Value], inst: Inst | None,
                 ctx: _Ctx) -> list[tuple[_St, tuple[Any, ...]]]:
        if isinstance(s, A.Assign):
            new = st.copy()
            self.assign(s, new, env, inst, ctx)
            return [(new, ctx.choices)]
        if isinstance(s, A.Await):
            return [(st, ctx.choices)] if self.ev(s.cond, st, env, inst, ctx) else []
        if isinstance(s, A.Assert):
            if not self.ev(s.cond, st, env, inst, ctx):
                raise AssertFailure(ctx.action, ctx.choices, self.assert_id(s))
            return [(st, ctx.choices)]
        if isinstance(s, A.Skip):
            return [(st, ctx.choices)]
        if isinstance(s, A.If):
            branch = s.then if self.ev(s.cond, st, env, inst, ctx) else s.orelse
            return self.run_block(branch, st, env, inst, ctx)
        if isinstance(s, A.Send):
            return self.send(s, st, env, inst, ctx)
        if isinstance(s, A.Receive):
            return self.receive(s, st, env, inst, ctx)
        if isinstance(s, A.For):
            values = self.domain_values(s.domain, st, env, inst, ctx)
            outcomes = [(st, ctx.choices)]
            for v in values:
                nxt = []
                for cur, choices in outcomes:
                    nxt += self.run_block(s.body, cur, {**env, s.var: v}, inst, _Ctx(ctx.action, choices))
                outcomes = nxt
            return outcomes
        if isinstance(s, A.Either):
            cid = self.choice_id(s, "either")
            out = []
            for j, b in enumerate(s.branches):
                out += self.run_block(b, st, env, inst, _Ctx(ctx.action, ctx.choices + ((cid, j),)))
            return out
        if isinstance(s, A.With):
            values = self.domain_values(s.domain, st, env, inst, ctx)
            cid = self.choice_id(s, s.var)
            out = []
            for v in values:
                inner = {**env, s.var: v}
                if s.where is not None and not self.ev(s.where, st, inner, inst, ctx):
                    continue
                out += self.run_block(s.body, st, inner, inst, _Ctx(ctx.action, ctx.choices + ((cid, v),)))
            return out
        if isinstance(s, A.Atomic):
            return self.run_block(s.body, st, env, inst, ctx)
        if isinstance(s, A.CallStmt):
            info = self.cm.calls[id(s)]
            assert isinstance(info.decl, A.ProcDecl)
            args = {name: self.ev(a, st, env, inst, ctx) for (name, _), a in zip(info.params, s.args, strict=True)}
            # a proc is checked outside any process: its body names no process's locals
            return self.run_block(info.decl.body, st, args, None, ctx)
        raise AssertionError(s)

    # process steps ----------------------------------------------------------------------
    def process_steps(self, st: _St, inst: Inst) -> Iterator[Successor]:
        proc, iv = inst
        pos = proc.positions
        start = st.pcs[(proc.name, iv)]
        if start == END:
            return
        base_env: dict[str, Value] = {}
        if proc.decl.index_var is not None:
            base_env[proc.decl.index_var] = iv
        if proc.decl.when is not None and not self.ev(proc.decl.when, st, base_env, inst, _Ctx(-1, ())):
            return
        control = (A.If, A.While, A.Either)
        shown = instance_name(proc, iv)

        def env_at(key: Key) -> dict[str, Value]:
            return {**base_env, **pos.binds.get(key, {})}

        def arrive(target: Key, visited: frozenset[Key]) -> Iterator[Successor]:
            if target in visited:
                yield from finish(None, target)
            elif target != END and isinstance(pos.stmt[target], control):
                yield from walk(target, visited | {target})
            else:
                yield from walk(target, visited)

        def finish(stmt_key: Key | None, target: Key) -> Iterator[Successor]:
            # a labelled statement's step is named by its label, as `fair action P.label` names it
            label = next((n for n, keys in pos.labels.items() if stmt_key in keys), f"{shown}@{stmt_key}")
            aid = self.action_id((shown, start, stmt_key, target), label, shown,
                                 pos.stmt[stmt_key].span if stmt_key is not None else pos.stmt[start].span,
                                 (self.lay.pc_slot[(proc.name, iv)], pos.number(start)))
            if stmt_key is None:
                new = st.copy()
                new.pcs[(proc.name, iv)] = target
                yield (aid, (), self.encode(new))
                return
            s = pos.stmt[stmt_key]
            ctx = _Ctx(aid, ())
            for out, choices in self.run_block([s], st, env_at(stmt_key), inst, ctx):
                out = out.copy()
                out.pcs[(proc.name, iv)] = pos.after[stmt_key]
                yield (aid, choices, self.encode(out))

        def walk(key: Key, visited: frozenset[Key]) -> Iterator[Successor]:
            if key == END:
                yield from finish(None, END)
                return
            s = pos.stmt[key]
            ctx = _Ctx(-1, ())
            if isinstance(s, A.If):
                c = self.ev(s.cond, st, env_at(key), inst, ctx)
                yield from arrive(pos.branches[key][0 if c else 1], visited)
            elif isinstance(s, A.While):
                c = self.ev(s.cond, st, env_at(key), inst, ctx)
                yield from arrive(pos.branches[key][0] if c else pos.after[key], visited)
            elif isinstance(s, A.Either):
                for b in pos.branches[key]:
                    yield from arrive(b, visited)
            else:
                yield from finish(key, key)

        first = frozenset({start}) if isinstance(pos.stmt[start], control) else frozenset()
        yield from walk(start, first)

    def action_steps(self, st: _St, d: A.ActionDecl, params: Sequence[tuple[str, Any, tuple[Value, ...]]]) -> Iterator[Successor]:
        aid = self.action_id(("action", d.name), d.name, "", d.span)
        names = [n for n, _, _ in params]
        cids = [self.choice_id(p, p.name) for p in d.params]
        for combo in itertools.product(*(values for _, _, values in params)):
            env = dict(zip(names, combo, strict=True))
            choices = tuple(zip(cids, combo, strict=True))
            ctx = _Ctx(aid, choices)
            if not self.members(d, env, st, ctx):
                continue
            if d.when is not None and not self.ev(d.when, st, env, None, ctx):
                continue
            for out, ch in self.run_block(d.body, st, env, None, ctx):
                yield (aid, ch, self.encode(out))

    def members(self, d: A.ActionDecl, env: dict[str, Value], st: _St, ctx: _Ctx) -> bool:
        """Whether every parameter over a set the state holds has a value in that set (the checker
        gives such a parameter every value of the set's element type)."""
        return all(env[p.name] in self.domain_values(p.domain, st, env, None, ctx) for p in d.params
                   if self.cm.domains[id(p.domain)][1] is None)

    def successors(self, state: State) -> list[Successor]:
        st = self.decode(state)
        out: list[Successor] = []
        for inst in self.lay.instances:
            out += list(self.process_steps(st, inst))
        for a in self.cm.actions:
            out += list(self.action_steps(st, a.decl, a.params))
        return out

    # properties ---------------------------------------------------------------------------
    def holds(self, e: A.Expr, st: _St) -> bool:
        return bool(self.ev(e, st, {}, None, _Ctx(-1, ())))

    def violations(self, state: State) -> list[int]:
        st = self.decode(state)
        return [k for k, d in enumerate(self.cm.invariants) if not self.holds(d.expr, st)]

    def reached(self, state: State) -> list[int]:
        st = self.decode(state)
        return [k for k, e in enumerate(self.goals) if self.holds(e, st)]

    def final_violations(self, state: State) -> list[int]:
        st = self.decode(state)
        return [k for k, d in enumerate(self.cm.finals) if not self.holds(d.expr, st)]

    def end_reached(self, state: State) -> list[int]:
        st = self.decode(state)
        return [k for k, e in enumerate(self.end_goals) if self.holds(e, st)]

    def temporal(self, state: State) -> list[tuple[bool, bool]]:
        st = self.decode(state)
        out = []
        for d in self.cm.liveness:
            for _, env in liveness_instances(self.cm, d):
                ctx = _Ctx(-1, ())
                q = d.q is not None and bool(self.ev(d.q, st, dict(env), None, ctx))
                out.append((bool(self.ev(d.p, st, dict(env), None, ctx)), q))
        return out

    def step_violations(self, before: State, action: int, after: State) -> list[int]:
        st, ctx = self.decode(before), _Ctx(action, (), self.decode(after))
        return [k for k, d in enumerate(self.cm.step_props) if not self.ev(d.expr, st, {}, None, ctx)]

    def is_terminal(self, state: State) -> bool:
        st = self.decode(state)
        if any(self.holds(d.expr, st) for d in self.cm.terminals):
            return True
        return bool(self.lay.instances) and all(pc == END for pc in st.pcs.values())


def _update(value: Value, path: list[int], new: Value) -> Value:
    if not path:
        return new
    assert isinstance(value, tuple)
    i = path[0]
    return value[:i] + (_update(value[i], path[1:], new),) + value[i + 1:]


def _fits(t: Type, v: Value) -> bool:
    if isinstance(t, TInt):
        return t.lo is None or (t.lo <= v <= t.hi)
    if isinstance(t, TArray | TSet):
        return all(_fits(t.elem, x) for x in v)
    if isinstance(t, TSeq):
        return len(v) <= t.capacity and all(_fits(t.elem, x) for x in v)
    if isinstance(t, TRecord):
        return all(_fits(ft, x) for (_, ft), x in zip(t.fields, v, strict=True))
    return isinstance(t, TBool | TEnum)


def _shown(t: Type, v: Value) -> str:
    return format_value(t, v) if isinstance(t, TSet | TSeq) else str(v)


def _text(e: A.Expr) -> str:
    if isinstance(e, A.Name):
        return e.name
    if isinstance(e, A.Field):
        return f"{_text(e.base)}.{e.name}"
    if isinstance(e, A.Index):
        return f"{_text(e.base)}[...]"
    return "?"
