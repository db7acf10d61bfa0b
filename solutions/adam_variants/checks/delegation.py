"""The grader-side verdict on ScratchAdamW's "no delegation" rule, read from the source.

Whatever runs in the student's process can be switched off from inside it: the runtime
tripwire of the assignment's probes is replaced as easily as any other name. So the points
for writing AdamW by hand are decided here, on the text of the code cells.

**What the class reaches** is followed the way Python resolves names, never by equal names
elsewhere in the notebook. From the last class statement of ``ScratchAdamW`` (its bases,
decorators and every method; ``self.<method>`` and ``super()`` stay inside the class and its
bases): a name bound inside the function that uses it (a parameter, a loop variable, an
assignment) is local and is not followed; any other name is a module-level name, and each of
its module-level bindings is followed: a ``def`` or ``class`` statement in full, an import, or
the expression assigned to it (for ``for`` and ``with`` statements only the iterable and the
context expression). A demo cell's ``opt = torch.optim.AdamW(...)`` is therefore reached only
when the class itself uses the module-level name ``opt``.

The verdict has three outcomes:

* **decided: the rule is broken** (``Verdict.findings``): what the class reaches names torch's
  Adam/AdamW, their functional or fused forms (``torch.optim._functional.adamw``,
  ``torch._fused_adamw_``) or native ops (``torch.ops``, ``torch._C``), an import of them,
  ``getattr`` with such a literal name, or a base class that is torch's Adam/AdamW; or the
  notebook tampers with grading: it names the grader's own modules, changes ``torch.optim``,
  or rebinds ``ScratchAdamW`` after its class statement;
* **undecidable** (``Verdict.review``): what runs cannot be read from the text: ``getattr``
  with a computed name, ``__dict__`` and similar lookups in what the class reaches;
  ``exec``/``eval``/``compile``, dynamic imports, ``globals()``/``vars()``, ``sys.modules``,
  IPython's ``run_cell``, escapes such as ``__globals__`` or changes to other torch attributes
  anywhere in the notebook. These cost nothing: the result is flagged for staff to review;
* **kept**: neither.

The runtime tripwire stays as extra evidence: it can cost points, never award them.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .static import parse_submission

CLASS_NAME = "ScratchAdamW"
ADAM_NAMES = frozenset({"Adam", "AdamW", "adam", "adamw", "_functional"})
"""Attributes of torch (or names imported from it) that are torch's Adam/AdamW."""
ADAM_PREFIXES = ("_fused", "_single_tensor", "_multi_tensor", "fused_adam")
NATIVE = frozenset({"ops", "_C"})
"""Attributes of torch that reach native kernels (``torch.ops.aten._fused_adamw_``)."""
HIDING_ATTRS = frozenset(
    {
        "__dict__",
        "__getattribute__",
        "__mro__",
        "__bases__",
        "getmembers",
        "attrgetter",
        "methodcaller",
    }
)
"""Lookups the grader cannot follow (undecidable inside what the class reaches)."""
ESCAPE_ATTRS = frozenset(
    {"__globals__", "__builtins__", "__subclasses__", "__code__", "__closure__"}
)
"""Ways out of the notebook's own namespace (undecidable anywhere in the notebook)."""
PUBLIC_MODULE = "autograder.public_checks"
"""The public self-checks: notebooks released before they moved beside the notebook import
them from the kit as a fallback (harmless: in the sandbox the import fails)."""
KIT_MODULE = re.compile(r"autograder(\.\w+)+|_assignment_\w+(\.\w+)*")
"""A string that names one of the grader's own modules (the kit, or an assignment's module
loaded into the student's process, ``_assignment_<id>_probes``)."""
DYNAMIC_CALLS = frozenset({"exec", "eval", "compile", "__import__", "globals", "vars"})
IPYTHON_RUNNERS = frozenset({"run_cell", "run_code", "runcode", "ex", "ev", "safe_execfile"})
TORCH_SETTINGS = ("backends",)
"""Attributes of torch that are settings (``torch.backends.cudnn.deterministic = True``)."""
_SCOPES = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.Lambda,
    ast.ClassDef,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
)


@dataclass(frozen=True)
class Finding:
    """One fact about the code, in words that state what it does."""

    what: str
    snippet: str
    where: str = ""
    """The module-level definition it sits in ("" for notebook-wide facts)."""

    def __str__(self) -> str:
        place = f" (in `{self.where}`)" if self.where and self.where != CLASS_NAME else ""
        return f"{self.what}: `{self.snippet}`{place}"


@dataclass(frozen=True)
class Verdict:
    """What the source shows: ``findings`` break the rule; ``review`` are things the grader
    cannot decide from the text (they cost nothing and are shown to staff)."""

    findings: tuple[Finding, ...] = ()
    review: tuple[Finding, ...] = ()


def _snippet(node: ast.AST) -> str:
    text = ast.unparse(node).replace("\n", " ")
    return text if len(text) <= 70 else text[:67] + "..."


# --------------------------------------------------------------------------- module level
def _top_level(tree: ast.Module) -> Iterator[ast.stmt]:
    """Module-level statements, including those inside module-level if/for/while/try/with."""
    stack = list(reversed(tree.body))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for field in ("body", "orelse", "finalbody", "handlers"):
            stack.extend(reversed([n for n in getattr(node, field, []) if isinstance(n, ast.AST)]))


def _target_names(target: ast.AST) -> list[str]:
    return [
        n.id for n in ast.walk(target) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    ]


def _bindings_of(node: ast.stmt) -> list[tuple[str, ast.AST]]:
    """(name, what the name is bound to) for each module-level name ``node`` binds: the
    definition, the import, or the expression whose value it takes."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [(node.name, node)]
    if isinstance(node, ast.Import):
        return [((a.asname or a.name).split(".")[0], ast.Import(names=[a])) for a in node.names]
    if isinstance(node, ast.ImportFrom):
        return [
            (a.asname or a.name, ast.ImportFrom(module=node.module, names=[a], level=node.level))
            for a in node.names
        ]
    if isinstance(node, ast.Assign):
        return [(name, node.value) for t in node.targets for name in _target_names(t)]
    if isinstance(node, (ast.AnnAssign, ast.AugAssign)):
        return [(name, node.value) for name in _target_names(node.target) if node.value is not None]
    if isinstance(node, (ast.For, ast.AsyncFor)):
        return [(name, node.iter) for name in _target_names(node.target)]
    if isinstance(node, (ast.With, ast.AsyncWith)):
        return [
            (name, item.context_expr)
            for item in node.items
            if item.optional_vars is not None
            for name in _target_names(item.optional_vars)
        ]
    return []


class _Notebook:
    """The submission's module-level bindings and the names that stand for torch."""

    def __init__(self, tree: ast.Module):
        self.tree = tree
        self.bindings: dict[str, list[ast.AST]] = {}
        self.order: list[tuple[str, ast.stmt]] = []
        self.star_from_optim = False
        self.torch_names = {"torch"}
        for node in _top_level(tree):
            for name, value in _bindings_of(node):
                self.bindings.setdefault(name, []).append(value)
                self.order.append((name, node))
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == "torch":
                        self.torch_names.add((alias.asname or alias.name).split(".")[0])
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "torch":
                if any(a.name == "*" for a in node.names):
                    self.star_from_optim |= (node.module or "").startswith("torch.optim")
                self.torch_names.update(a.asname or a.name for a in node.names if a.name != "*")
        self._global_assignments(tree)

    def _global_assignments(self, tree: ast.Module) -> None:
        """``global x`` in a function: its assignments to ``x`` bind the module-level name."""
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            declared = {n for s in ast.walk(fn) if isinstance(s, ast.Global) for n in s.names}
            if not declared:
                continue
            for node in ast.walk(fn):
                for name, value in _bindings_of(node) if isinstance(node, ast.stmt) else []:
                    if name in declared and not isinstance(value, ast.stmt):
                        self.bindings.setdefault(name, []).append(value)

    def torch_rooted(self, node: ast.AST) -> bool:
        while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
            node = node.func if isinstance(node, ast.Call) else node.value
        return isinstance(node, ast.Name) and node.id in self.torch_names

    def last_class(self) -> ast.ClassDef | None:
        classes = [n for n in self.bindings.get(CLASS_NAME, []) if isinstance(n, ast.ClassDef)]
        return classes[-1] if classes else None


# --------------------------------------------------------------------------- scopes
def _params(args: ast.arguments) -> set[str]:
    every = [
        *args.posonlyargs,
        *args.args,
        *args.kwonlyargs,
        *([args.vararg] if args.vararg else []),
        *([args.kwarg] if args.kwarg else []),
    ]
    return {a.arg for a in every}


def _outside_parts(node: ast.AST) -> list[ast.AST]:
    """The parts of a scope node evaluated in the enclosing scope (decorators, defaults,
    bases, annotations; a comprehension's first iterable)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        args = node.args
        parts: list[ast.AST] = [*args.defaults, *[d for d in args.kw_defaults if d is not None]]
        if not isinstance(node, ast.Lambda):
            parts += node.decorator_list
            parts += [
                a.annotation
                for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]
                if a.annotation is not None
            ]
            parts += [node.returns] if node.returns is not None else []
        return parts
    if isinstance(node, ast.ClassDef):
        return [*node.decorator_list, *node.bases, *[k.value for k in node.keywords]]
    return [node.generators[0].iter]  # a comprehension


def _local_names(body: Iterable[ast.AST]) -> tuple[set[str], set[str]]:
    """(names bound, names declared global) by statements of one scope, not descending into
    nested scopes (whose own names are bound in the scope itself)."""
    bound: set[str] = set()
    declared: set[str] = set()
    stack = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
            stack.extend(_outside_parts(node))
            continue
        if isinstance(node, _SCOPES):
            stack.extend(_outside_parts(node))
            continue
        if isinstance(node, ast.Global):
            declared.update(node.names)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            bound.add(node.name)
        stack.extend(ast.iter_child_nodes(node))
    return bound, declared


def module_names_used(node: ast.AST, enclosing: frozenset[str] = frozenset()) -> set[str]:
    """The module-level names ``node`` uses: every name it loads that is not bound in the
    scope that loads it or in an enclosing function's (``enclosing``); a class body's own
    names are visible to its statements but not to its methods, as in Python."""
    out: set[str] = set()
    for part in _outside_parts(node) if isinstance(node, _SCOPES) else ():
        out |= module_names_used(part, enclosing)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        body = node.body if isinstance(node.body, list) else [node.body]
        bound, declared = _local_names(body)
        inner = frozenset((enclosing | bound | _params(node.args)) - declared)
        for stmt in body:
            out |= module_names_used(stmt, inner)
        return out
    if isinstance(node, ast.ClassDef):
        bound, _ = _local_names(node.body)
        for stmt in node.body:
            scope = enclosing if isinstance(stmt, _SCOPES) else enclosing | bound
            out |= module_names_used(stmt, frozenset(scope))
        return out
    if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
        targets = {n for g in node.generators for n in _target_names(g.target)}
        inner = frozenset(enclosing | targets)
        parts: list[ast.AST] = [g for g in node.generators]
        parts += [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
        for part in parts:
            if isinstance(part, ast.comprehension):
                if part is not node.generators[0]:
                    out |= module_names_used(part.iter, inner)
                for cond in part.ifs:
                    out |= module_names_used(cond, inner)
            else:
                out |= module_names_used(part, inner)
        return out
    if isinstance(node, ast.Name):
        if isinstance(node.ctx, ast.Load) and node.id not in enclosing:
            out.add(node.id)
        return out
    for child in ast.iter_child_nodes(node):
        out |= module_names_used(child, enclosing)
    return out


# --------------------------------------------------------------------------- facts
def _adam_name(name: str) -> bool:
    return name in ADAM_NAMES or name.startswith(ADAM_PREFIXES)


def _import_reaches_adam(node: ast.Import | ast.ImportFrom) -> bool:
    """Whether what the import binds is torch's Adam/AdamW or one of their modules
    (``import torch.optim.adamw`` binds ``torch`` itself; ``as aw`` binds the module)."""
    module = getattr(node, "module", None) or ""
    for alias in node.names:
        if isinstance(node, ast.Import) and not alias.asname:
            continue
        parts = [*module.split("."), *alias.name.split(".")]
        if parts[0] == "torch" and any(_adam_name(p) for p in parts[1:]):
            return True
    return False


def _reach_facts(nb: _Notebook, node: ast.AST, where: str) -> tuple[list[Finding], list[Finding]]:
    """(breaks the rule, undecidable) in one definition the class reaches."""
    found: list[Finding] = []
    review: list[Finding] = []
    for n in ast.walk(node):
        if isinstance(n, (ast.Import, ast.ImportFrom)):
            if _import_reaches_adam(n):
                found.append(Finding("imports torch's Adam/AdamW", _snippet(n), where))
        elif isinstance(n, ast.Attribute):
            if n.attr in ("Adam", "AdamW") or (nb.torch_rooted(n.value) and _adam_name(n.attr)):
                found.append(Finding("uses torch's Adam/AdamW", _snippet(n), where))
            elif nb.torch_rooted(n.value) and n.attr in NATIVE:
                found.append(Finding("uses torch's native ops", _snippet(n), where))
            elif n.attr in HIDING_ATTRS:
                review.append(
                    Finding("looks names up in a way the grader cannot follow", _snippet(n), where)
                )
        elif isinstance(n, ast.Name) and n.id in HIDING_ATTRS:
            review.append(
                Finding("looks names up in a way the grader cannot follow", _snippet(n), where)
            )
        elif (
            isinstance(n, ast.Call)
            and isinstance(n.func, ast.Name)
            and n.func.id in ("getattr", "setattr", "delattr")
            and len(n.args) >= 2
        ):
            key = n.args[1]
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                review.append(Finding("uses getattr with a computed name", _snippet(n), where))
            elif _adam_name(key.value) or key.value in NATIVE:
                found.append(Finding("uses torch's Adam/AdamW", _snippet(n), where))
        elif (
            isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in DYNAMIC_CALLS
        ):
            review.append(Finding("runs code or looks names up dynamically", _snippet(n), where))
    return found, review


def _is_kit(module: str) -> bool:
    return module.split(".")[0] == "autograder" or module.startswith("_assignment_")


def _is_public_checks_use(nb: _Notebook, name: ast.Name) -> bool:
    """``autograder.public_checks.check(...)`` after ``import autograder.public_checks``."""
    parents = [p for p in ast.walk(nb.tree) if isinstance(p, ast.Attribute) and p.value is name]
    return bool(parents) and all(p.attr == "public_checks" for p in parents)


def _attribute_path(node: ast.AST) -> list[str]:
    parts = []
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
        node = node.func if isinstance(node, ast.Call) else node.value
    return parts[::-1]


def _torch_change(
    nb: _Notebook, target: ast.AST, out: list[Finding], review: list[Finding]
) -> None:
    """An assignment to (or setattr/delattr of) an attribute of torch."""
    path = _attribute_path(target)
    if not path or path[0] in TORCH_SETTINGS:
        return
    if "optim" in path or "Optimizer" in path or any(_adam_name(p) for p in path):
        out.append(Finding("changes torch's optimizers", _snippet(target)))
    else:
        review.append(Finding("changes an attribute of torch", _snippet(target)))


def _sys_modules_test(parent: dict[int, ast.AST], node: ast.AST) -> bool:
    """``name in sys.modules`` (e.g. to detect Colab): reads nothing."""
    above = parent.get(id(node))
    return (
        isinstance(above, ast.Compare)
        and node in above.comparators
        and all(isinstance(op, (ast.In, ast.NotIn)) for op in above.ops)
    )


def _notebook_facts(nb: _Notebook) -> tuple[list[Finding], list[Finding]]:
    """(tampers with grading, undecidable) anywhere in the notebook."""
    out: list[Finding] = []
    review: list[Finding] = []
    parent = {id(c): p for p in ast.walk(nb.tree) for c in ast.iter_child_nodes(p)}
    for n in ast.walk(nb.tree):
        if isinstance(n, (ast.Import, ast.ImportFrom)):
            modules = (
                [n.module or ""] if isinstance(n, ast.ImportFrom) else [a.name for a in n.names]
            )
            if any(_is_kit(m) and m != PUBLIC_MODULE for m in modules):
                out.append(Finding("refers to the grader's own modules", _snippet(n)))
            elif any(m.split(".")[0] == "importlib" for m in modules):
                review.append(Finding("imports modules dynamically", _snippet(n)))
        elif isinstance(n, ast.Name) and _is_kit(n.id):
            if not (n.id == "autograder" and _is_public_checks_use(nb, n)):
                out.append(Finding("refers to the grader's own modules", _snippet(n)))
        elif isinstance(n, ast.Name) and n.id == "importlib":
            review.append(Finding("imports modules dynamically", _snippet(n)))
        elif (
            isinstance(n, ast.Constant)
            and isinstance(n.value, str)
            and KIT_MODULE.fullmatch(n.value)
            and n.value != PUBLIC_MODULE
        ):
            out.append(Finding("refers to the grader's own modules", _snippet(n)))
        elif (
            isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in DYNAMIC_CALLS
        ):
            review.append(Finding("runs code or looks names up dynamically", _snippet(n)))
        elif (
            isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and n.func.attr in IPYTHON_RUNNERS
            and "get_ipython" in ast.unparse(n.func)
        ):
            review.append(Finding("runs code dynamically", _snippet(n)))
        elif (
            isinstance(n, ast.Attribute)
            and n.attr == "modules"
            and (
                (isinstance(n.value, ast.Name) and n.value.id == "sys")
                or (isinstance(n.value, ast.Attribute) and n.value.attr == "sys")
            )
        ):
            if not _sys_modules_test(parent, n):
                review.append(Finding("reaches sys.modules", _snippet(n)))
        elif isinstance(n, ast.Attribute) and n.attr in ESCAPE_ATTRS:
            review.append(Finding("reaches outside the notebook's own names", _snippet(n)))
        elif isinstance(n, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = n.targets if isinstance(n, (ast.Assign, ast.Delete)) else [n.target]
            for t in targets:
                if isinstance(t, (ast.Attribute, ast.Subscript)) and nb.torch_rooted(t):
                    _torch_change(nb, t, out, review)
        elif (
            isinstance(n, ast.Call)
            and isinstance(n.func, ast.Name)
            and n.func.id in ("setattr", "delattr")
            and n.args
            and nb.torch_rooted(n.args[0])
        ):
            _torch_change(nb, n, out, review)
        elif isinstance(n, ast.Global) and CLASS_NAME in n.names:
            out.append(Finding(f"rebinds {CLASS_NAME} from inside a function", _snippet(n)))
    bound = [node for name, node in nb.order if name == CLASS_NAME]
    if bound and not isinstance(bound[-1], ast.ClassDef):
        out.append(Finding(f"rebinds {CLASS_NAME} after its class statement", _snippet(bound[-1])))
    return out, review


# --------------------------------------------------------------------------- verdict
def _definition_name(value: ast.AST, via: str) -> str:
    if isinstance(value, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return value.name
    return via


@functools.lru_cache(maxsize=16)
def verdict(source: str) -> Verdict:
    """What ``source`` shows about the no-delegation rule (nothing when there is no class
    statement of ScratchAdamW and nothing in the notebook tampers with grading)."""
    tree = parse_submission(source)
    if tree is None:
        return Verdict()
    nb = _Notebook(tree)
    found, review = _notebook_facts(nb)
    cls = nb.last_class()
    if cls is not None:
        todo: list[tuple[ast.AST, str]] = [(cls, CLASS_NAME)]
        seen: set[int] = {id(cls)}
        while todo:
            node, where = todo.pop()
            more_found, more_review = _reach_facts(nb, node, where)
            found += more_found
            review += more_review
            for name in sorted(module_names_used(node)):
                if name in ("Adam", "AdamW") and nb.star_from_optim and name not in nb.bindings:
                    found.append(Finding("uses torch's Adam/AdamW (star import)", name, where))
                for value in nb.bindings.get(name, []):
                    if id(value) not in seen:
                        seen.add(id(value))
                        todo.append((value, _definition_name(value, name)))
    return Verdict(tuple(dict.fromkeys(found)), tuple(dict.fromkeys(review)))


def findings(source: str) -> tuple[Finding, ...]:
    """Every reason ``source`` breaks the no-delegation rule, as decided from the text."""
    return verdict(source).findings


def subclasses_optimizer(source: str) -> bool:
    """Whether the last class statement of ScratchAdamW, not rebound afterwards, names
    torch.optim.Optimizer among its bases (directly, through an alias or through a base class
    of the notebook's own)."""
    tree = parse_submission(source)
    if tree is None:
        return False
    nb = _Notebook(tree)
    cls = nb.last_class()
    bound = [node for name, node in nb.order if name == CLASS_NAME]
    return cls is not None and bound[-1] is cls and _is_optimizer_class(nb, cls, set())


def _is_optimizer_class(nb: _Notebook, cls: ast.ClassDef, seen: set[int]) -> bool:
    seen.add(id(cls))
    return any(_is_optimizer_expr(nb, base, seen) for base in cls.bases)


def _is_optimizer_expr(nb: _Notebook, node: ast.AST, seen: set[int]) -> bool:
    if isinstance(node, ast.Attribute):
        return node.attr == "Optimizer" and nb.torch_rooted(node.value)
    if not isinstance(node, ast.Name):
        return False
    if node.id == "Optimizer" and nb.star_from_optim and node.id not in nb.bindings:
        return True
    for binding in nb.bindings.get(node.id, []):
        if id(binding) in seen:
            continue
        if isinstance(binding, ast.ClassDef) and _is_optimizer_class(nb, binding, seen):
            return True
        if (
            isinstance(binding, ast.ImportFrom)
            and (binding.module or "").startswith("torch")
            and any(
                a.name == "Optimizer" and (a.asname or a.name) == node.id for a in binding.names
            )
        ):
            return True
        if isinstance(binding, ast.expr):
            seen.add(id(binding))
            if _is_optimizer_expr(nb, binding, seen):
                return True
    return False
