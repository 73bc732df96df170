"""Stage 1b: one model out of several files: `use` and `override`.

Takes a parsed model and a loader for what its `use` declarations name; gives
one flat `ast.Model`: the declarations of every used vocabulary or file spliced
in where it is first used, each `use` argument written into the `param` or
`const` it sets, and each `override` put in the place of the `default`
declaration it replaces. Also gives the file each declaration came from: a
`protected` variable may be assigned only by code of its own file. Nothing is
evaluated here; the checker sees one model as if it had been written in one
file. Imports `lang.ast`, `lang.errors`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from quiesce_check.lang import ast as A
from quiesce_check.lang.errors import Diagnostic, ModelError, Span, nearest


@dataclass(frozen=True)
class Loaded:
    """What a `use` names: a key that identifies it (so it is spliced once) and
    its parsed declarations."""

    key: str
    model: A.Model


# Given a `use` and the path of the file it stands in: what it names, or ModelError.
Loader = Callable[[A.UseDecl, str], Loaded]


@dataclass(frozen=True)
class Expanded:
    model: A.Model
    # id() of each declaration that came from a used file -> that file's key; the model's own
    # declarations (its overrides included) are absent: they are the model's code
    origins: dict[int, str]


_OVERRIDABLE = (A.VarDecl, A.DefDecl, A.ProcDecl, A.ProcessDecl)


def _kind(d: A.Decl) -> str:
    return {A.VarDecl: "var", A.DefDecl: "def", A.ProcDecl: "proc", A.ProcessDecl: "process",
            A.ParamDecl: "param", A.ConstDecl: "const"}.get(type(d), "declaration")


def _modifier(d: A.Decl) -> str | None:
    return d.modifier if isinstance(d, _OVERRIDABLE) else None


def _name(d: A.Decl) -> str | None:
    """The name `d` declares: a fairness assumption names a process or an action, declares none."""
    return None if isinstance(d, A.FairnessDecl) else getattr(d, "name", None)


class _Expander:
    def __init__(self, load: Loader) -> None:
        self.load = load
        self.diags: list[Diagnostic] = []
        self.out: list[tuple[A.Decl, str]] = []  # each declaration and the key of its file ("" the model)
        self.used: dict[str, Span] = {}
        self.stack: list[str] = []
        self.sources: dict[str, str] = {}
        self.redeclared_at: dict[str, Span] = {}  # each `default` name declared again without `override`

    def error(self, code: str, message: str, span: Span | None, hint: str | None = None,
              related: tuple[tuple[str, Span], ...] = ()) -> None:
        self.diags.append(Diagnostic(code, message, span, hint, related))

    # splicing -----------------------------------------------------------------
    def splice(self, model: A.Model, origin: str) -> None:
        """Every declaration of `model`, each `use` replaced by what it names, in order.

        An explicit stack, not recursion: a chain of files each using the next is as deep as
        it is long, and a thousand of them must not exhaust Python's stack."""
        # each frame: the declarations still to splice, the file's path, its key, and the `use`
        # it stands for with where its declarations start (set when the frame is done)
        frames: list[tuple[Iterator[A.Decl], str, str, A.UseDecl | None, int]] = []
        self.sources.setdefault(model.path, model.source)
        frames.append((iter(model.decls), model.path, origin, None, 0))
        while frames:
            decls, path, key, use, start = frames[-1]
            d = next(decls, None)
            if d is None:
                frames.pop()
                if use is not None:
                    self.stack.pop()
                    self.set_arguments(use, start)
                continue
            if not isinstance(d, A.UseDecl):
                self.out.append((d, key))
                continue
            try:
                loaded = self.load(d, path)
            except ModelError as e:
                self.diags.extend(e.diagnostics)
                continue
            if loaded.key in self.stack:
                self.error("E014", f"`{d.target}` uses itself (through {_chain(self.stack)})", d.span)
                continue
            if loaded.key in self.used:
                if d.args:
                    self.error("E015", f"`{d.target}` is already used; set its parameters where it is first used",
                               d.span, related=(("first used", self.used[loaded.key]),))
                continue
            self.used[loaded.key] = d.span
            self.stack.append(loaded.key)
            self.sources.setdefault(loaded.model.path, loaded.model.source)
            frames.append((iter(loaded.model.decls), loaded.model.path, loaded.key, d, len(self.out)))

    def set_arguments(self, use: A.UseDecl, start: int) -> None:
        """Write each `NAME = value` of a `use` into the parameter or constant it names."""
        if not use.args:  # most uses set nothing: no need to look through what they spliced in
            return
        settable = {d.name: k for k, (d, _) in enumerate(self.out[start:], start)
                    if isinstance(d, A.ParamDecl | A.ConstDecl | A.ObligationDecl)}
        seen: dict[str, Span] = {}
        for arg in use.args:
            if arg.name in seen:
                self.error("E010", f"`{arg.name}` is set twice", arg.span, related=(("first set", seen[arg.name]),))
                continue
            seen[arg.name] = arg.span
            k = settable.get(arg.name)
            if k is None:
                self.error("E015", f"`{use.target}` has no parameter or constant `{arg.name}`", arg.span,
                           nearest(arg.name, settable) or (
                               "it can set " + ", ".join(sorted(settable)) if settable else None))
                continue
            d, origin = self.out[k]
            if isinstance(d, A.ObligationDecl):
                self.out[k] = (replace(d, value=arg.value), origin)
            elif isinstance(d, A.ParamDecl):
                self.out[k] = (A.ParamDecl(d.name, arg.value, d.span), origin)
            else:
                assert isinstance(d, A.ConstDecl)
                self.out[k] = (A.ConstDecl(d.name, arg.value, d.span), origin)

    # overrides ------------------------------------------------------------------
    def resolve_overrides(self) -> list[tuple[A.Decl, str]]:
        defaults: dict[str, int] = {}
        for k, (d, _) in enumerate(self.out):
            if _modifier(d) == "default":
                defaults.setdefault(_name(d) or "", k)
        by_name: dict[str, A.Decl] = {}
        for d, _ in self.out:
            name = _name(d)
            if name is not None and _modifier(d) != "override":
                by_name.setdefault(name, d)
        replaced: dict[int, tuple[A.Decl, str]] = {}
        overridden: dict[str, Span] = {}
        drop: set[int] = set()
        for k, (d, origin) in enumerate(self.out):
            name = _name(d)
            if name is None:
                continue
            if _modifier(d) != "override":
                if name in defaults and defaults[name] != k:
                    self.redeclared(name, self.out[defaults[name]], (d, origin))
                continue
            drop.add(k)
            target = defaults.get(name)
            if target is None:
                other = by_name.get(name)
                if other is not None:
                    self.error("E015", f"`{name}` is not declared `default`, so it cannot be overridden", d.span,
                               related=(("declared", other.span),))
                else:
                    self.error("E015", f"there is no default `{name}` to override", d.span,
                               nearest(name, defaults) or "only declarations marked `default` can be overridden")
                continue
            base = self.out[target][0]
            if type(base) is not type(d):
                self.error("E015", f"`{name}` is a {_kind(base)}; replace it with `override {_kind(base)}`",
                           d.span, related=(("the default", base.span),))
                continue
            if name in overridden:
                self.error("E010", f"`{name}` is overridden twice", d.span,
                           related=(("first overridden", overridden[name]),))
                continue
            overridden[name] = d.span
            # the override is the code of the file that wrote it, not of the one it replaces into
            replaced[target] = (self.fill_var(d, base) if isinstance(d, A.VarDecl) else d, origin)
        return [replaced.get(k, item) for k, item in enumerate(self.out) if k not in drop]

    def redeclared(self, name: str, default: tuple[A.Decl, str], again: tuple[A.Decl, str]) -> None:
        """E010, once, for a `default` declaration declared again without `override`: at the
        model's own declaration (when the model wrote the `default` and a used file declares the
        name again, the model's is the one to change), with the hint that fits (write `override`,
        or, when there is an override already, remove the extra declaration)."""
        (base, base_origin), (d, origin) = default, again
        if base_origin == "" and origin != "":
            base, d = d, base
        if name in self.redeclared_at:
            # only the first repeat can become the override; the others are plain duplicates
            self.error("E010", f"`{name}` is declared twice", d.span,
                       related=(("first declared again", self.redeclared_at[name]),))
            return
        self.redeclared_at[name] = d.span
        override = next((x.span for x, _ in self.out if _name(x) == name and _modifier(x) == "override"), None)
        if override is not None:
            self.error("E010", f"`{name}` is declared twice", d.span,
                       f"`{name}` is already overridden; remove this declaration or merge it into the override",
                       related=(("the override", override), ("the default", base.span)))
            return
        self.error("E010", f"`{name}` is declared twice", d.span,
                   f"write `override {_kind(base)} {name} ...` to replace the default",
                   related=(("the default", base.span),))

    def fill_var(self, d: A.VarDecl, base: A.Decl) -> A.VarDecl:
        """`override var x = e;` keeps the type of the variable it replaces."""
        assert isinstance(base, A.VarDecl)
        typ = d.type if d.type is not None else base.type
        if d.init is None and d.init_domain is None and not d.init_any:
            self.error("E021", f"`override var {d.name}` gives no initial value", d.span,
                       "write `= value`, `in {a, b}` or `= any`")
        return replace(d, type=typ, init_domain=typ if d.init_any else d.init_domain,
                       modifier=base.modifier if base.modifier == "protected" else None)


def _chain(keys: list[str]) -> str:
    """The files of a cycle of `use`s, the first and last few when there are many."""
    shown = keys if len(keys) <= 8 else [*keys[:3], f"... {len(keys) - 6} more ...", *keys[-3:]]
    return " -> ".join(shown)


def expand(model: A.Model, load: Loader) -> Expanded:
    """The model with every `use` spliced in and every `override` in place; ModelError otherwise."""
    ex = _Expander(load)
    ex.splice(model, "")
    decls = ex.resolve_overrides()
    for d, _ in decls:
        if isinstance(d, A.VarDecl) and d.type is None:
            ex.error("E021", f"`{d.name}` has no type", d.span, "write `var x: T = value;`")
    if ex.diags:
        raise ModelError(ex.diags)
    flat = A.Model(tuple(d for d, _ in decls), model.path, model.source, ex.sources)
    return Expanded(flat, {id(d): origin for d, origin in decls if origin})
