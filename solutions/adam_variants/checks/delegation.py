"""The grader-side verdict on ScratchAdamW's "no delegation" rule, read from the source.

Whatever runs in the student's process can be switched off from inside it: the runtime
tripwire of :mod:`autograder.inside.probes` is replaced as easily as any other name. So the points
for writing AdamW by hand are decided here, on the text of the code cells:

* **the class and all it reaches**: the last class statement of ``ScratchAdamW`` and every
  top-level definition it refers to, transitively (helper functions, module-level aliases,
  imports), must not reach torch's Adam or AdamW, their functional or fused forms, or native
  ops (``torch.ops``, ``torch._C``), and must not hide what it calls (``getattr`` with a
  computed name, ``__dict__``, ``__subclasses__``, ``inspect.getmembers``, ...);
* **the whole notebook**: no reference to the grader's own ``autograder`` package, no dynamic
  code or imports (``exec``, ``eval``, ``compile``, ``__import__``, ``importlib``,
  ``sys.modules``, ``globals()``, ``vars()``, ``get_ipython().run_cell``), no patching of
  torch's attributes, and no rebinding of ``ScratchAdamW`` after its class statement.

The runtime tripwire stays as extra evidence: it can cost points, never award them.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from dataclasses import dataclass

from .static import parse_submission

CLASS_NAME = "ScratchAdamW"
ADAM_NAMES = frozenset({"Adam", "AdamW", "adam", "adamw", "_functional"})
"""Attributes of torch (or names imported from it) that are torch's Adam/AdamW."""
ADAM_PREFIXES = ("_fused", "_single_tensor", "_multi_tensor", "fused_adam")
NATIVE = frozenset({"ops", "_C"})
"""Attributes of torch that reach native kernels (``torch.ops.aten._fused_adamw_``)."""
HIDING_ATTRS = frozenset({"__dict__", "__getattribute__", "__mro__", "__bases__",
                          "getmembers", "attrgetter", "methodcaller"})
"""Lookups the grader cannot follow, refused inside the class and what it reaches."""
ESCAPE_ATTRS = frozenset({"__globals__", "__builtins__", "__subclasses__", "__code__",
                          "__closure__"})
"""Ways out of the notebook's own namespace, refused anywhere in the notebook."""
PUBLIC_MODULE = "autograder.public_checks"
"""The public self-checks: notebooks released before they moved beside the notebook import
them from the kit as a fallback (harmless: in the sandbox the import fails)."""
KIT_PREFIXES = ("autograder", "_assignment_")
"""The grader's own modules: the kit, and an assignment's modules loaded into the student's
process (``_assignment_<id>_probes``, ...)."""
ATTR_FUNCTIONS = frozenset({"getattr", "setattr", "delattr", "hasattr"})
DYNAMIC_CALLS = frozenset({"exec", "eval", "compile", "__import__", "globals", "vars"})
IPYTHON_RUNNERS = frozenset({"run_cell", "run_code", "runcode", "ex", "ev", "safe_execfile"})


@dataclass(frozen=True)
class Finding:
    """One reason the rule is broken, in words a student can act on."""

    what: str
    snippet: str

    def __str__(self) -> str:
        return f"{self.what}: `{self.snippet}`"


def _snippet(node: ast.AST) -> str:
    text = ast.unparse(node).replace("\n", " ")
    return text if len(text) <= 70 else text[:67] + "..."


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


def _bound_names(node: ast.stmt) -> list[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [(a.asname or a.name).split(".")[0] for a in node.names]
    targets: list[ast.AST] = []
    if isinstance(node, ast.Assign):
        targets = list(node.targets)
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor)):
        targets = [node.target]
    elif isinstance(node, (ast.With, ast.AsyncWith)):
        targets = [i.optional_vars for i in node.items if i.optional_vars is not None]
    return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]


class _Notebook:
    """The submission's module-level bindings and the names that stand for torch."""

    def __init__(self, tree: ast.Module):
        self.tree = tree
        self.bindings: dict[str, list[ast.stmt]] = {}
        self.order: list[tuple[str, ast.stmt]] = []
        self.star_from_optim = False
        self.torch_names = {"torch"}
        for node in _top_level(tree):
            for name in _bound_names(node):
                self.bindings.setdefault(name, []).append(node)
                self.order.append((name, node))
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == "torch":
                        self.torch_names.add((alias.asname or alias.name).split(".")[0])
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "torch":
                if any(a.name == "*" for a in node.names):
                    self.star_from_optim |= (node.module or "").startswith("torch.optim")
                self.torch_names.update(a.asname or a.name for a in node.names if a.name != "*")

    def torch_rooted(self, node: ast.AST) -> bool:
        while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
            node = node.func if isinstance(node, ast.Call) else node.value
        return isinstance(node, ast.Name) and node.id in self.torch_names

    def last_class(self) -> ast.ClassDef | None:
        classes = [n for n in self.bindings.get(CLASS_NAME, []) if isinstance(n, ast.ClassDef)]
        return classes[-1] if classes else None


def _adam_name(name: str) -> bool:
    return name in ADAM_NAMES or name.startswith(ADAM_PREFIXES)


def _import_findings(node: ast.Import | ast.ImportFrom) -> list[Finding]:
    """An import that brings torch's Adam/AdamW (or their modules) into the notebook."""
    out = []
    module = getattr(node, "module", None) or ""
    for alias in node.names:
        parts = [*module.split("."), *alias.name.split(".")]
        if parts[0] == "torch" and any(_adam_name(p) for p in parts[1:]):
            out.append(Finding("imports torch's Adam/AdamW", _snippet(node)))
    return out


def _closure_findings(nb: _Notebook, node: ast.AST) -> list[Finding]:
    """What a statement of the class's closure does that breaks the rule."""
    out: list[Finding] = []
    for n in ast.walk(node):
        if isinstance(n, (ast.Import, ast.ImportFrom)):
            out += _import_findings(n)
        elif isinstance(n, ast.Attribute):
            if n.attr in ("Adam", "AdamW") or (nb.torch_rooted(n.value) and _adam_name(n.attr)):
                out.append(Finding("reaches torch's Adam/AdamW", _snippet(n)))
            elif nb.torch_rooted(n.value) and n.attr in NATIVE:
                out.append(Finding("reaches torch's native ops", _snippet(n)))
            elif n.attr in HIDING_ATTRS:
                out.append(Finding("looks names up in a way the grader cannot follow",
                                   _snippet(n)))
        elif isinstance(n, ast.Name) and n.id in HIDING_ATTRS:
            out.append(Finding("looks names up in a way the grader cannot follow", _snippet(n)))
        elif isinstance(n, ast.Call) and isinstance(n.func, ast.Name) \
                and n.func.id in ATTR_FUNCTIONS and len(n.args) >= 2:
            key = n.args[1]
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                out.append(Finding("uses getattr with a computed name", _snippet(n)))
            elif _adam_name(key.value) or key.value in NATIVE:
                out.append(Finding("reaches torch's Adam/AdamW", _snippet(n)))
        elif isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) \
                and n.id in ("Adam", "AdamW") and nb.star_from_optim:
            out.append(Finding("reaches torch's Adam/AdamW (star import)", _snippet(n)))
    return out


def _notebook_findings(nb: _Notebook) -> list[Finding]:
    """What anywhere in the notebook tampers with grading or hides what runs."""
    out: list[Finding] = []
    for n in ast.walk(nb.tree):
        if isinstance(n, (ast.Import, ast.ImportFrom)):
            modules = ([n.module or ""] if isinstance(n, ast.ImportFrom)
                       else [a.name for a in n.names])
            if any(_is_kit(m) and m != PUBLIC_MODULE for m in modules):
                out.append(Finding("refers to the grader's own modules", _snippet(n)))
            elif any(m.split(".")[0] == "importlib" for m in modules):
                out.append(Finding("imports modules dynamically", _snippet(n)))
        elif isinstance(n, ast.Name) and (_is_kit(n.id) or n.id == "importlib"):
            if not (n.id == "autograder" and _is_public_checks_use(nb, n)):
                out.append(Finding("imports modules dynamically" if n.id == "importlib"
                                   else "refers to the grader's own modules", _snippet(n)))
        elif isinstance(n, ast.Constant) and isinstance(n.value, str) \
                and any(prefix in n.value for prefix in KIT_PREFIXES):
            out.append(Finding("refers to the grader's own modules", _snippet(n)))
        elif isinstance(n, ast.Call) and isinstance(n.func, ast.Name) \
                and n.func.id in DYNAMIC_CALLS:
            out.append(Finding("runs code or looks names up dynamically", _snippet(n)))
        elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) \
                and n.func.attr in IPYTHON_RUNNERS and "get_ipython" in ast.unparse(n.func):
            out.append(Finding("runs code dynamically", _snippet(n)))
        elif isinstance(n, ast.Attribute) and n.attr == "modules" and (
                (isinstance(n.value, ast.Name) and n.value.id == "sys")
                or (isinstance(n.value, ast.Attribute) and n.value.attr == "sys")):
            out.append(Finding("reaches sys.modules", _snippet(n)))
        elif isinstance(n, ast.Attribute) and n.attr in ESCAPE_ATTRS:
            out.append(Finding("reaches outside the notebook's own names", _snippet(n)))
        elif isinstance(n, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = n.targets if isinstance(n, (ast.Assign, ast.Delete)) else [n.target]
            for t in targets:
                if isinstance(t, (ast.Attribute, ast.Subscript)) and nb.torch_rooted(t):
                    out.append(Finding("changes torch itself", _snippet(t)))
        elif isinstance(n, ast.Call) and isinstance(n.func, ast.Name) \
                and n.func.id in ("setattr", "delattr") and n.args and nb.torch_rooted(n.args[0]):
            out.append(Finding("changes torch itself", _snippet(n)))
        elif isinstance(n, ast.Global) and CLASS_NAME in n.names:
            out.append(Finding(f"rebinds {CLASS_NAME} from inside a function", _snippet(n)))
    bound = [node for name, node in nb.order if name == CLASS_NAME]
    if bound and not isinstance(bound[-1], ast.ClassDef):
        out.append(Finding(f"rebinds {CLASS_NAME} after its class statement",
                           _snippet(bound[-1])))
    return out


def _is_kit(module: str) -> bool:
    return module.split(".")[0] == "autograder" or module.startswith("_assignment_")


def _is_public_checks_use(nb: _Notebook, name: ast.Name) -> bool:
    """``autograder.public_checks.check(...)`` after ``import autograder.public_checks``."""
    parents = [p for p in ast.walk(nb.tree) if isinstance(p, ast.Attribute) and p.value is name]
    return bool(parents) and all(p.attr == "public_checks" for p in parents)


def _loaded_names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)
            and isinstance(n.ctx, ast.Load)}


@functools.lru_cache(maxsize=16)
def findings(source: str) -> tuple[Finding, ...]:
    """Every reason ``source`` breaks the no-delegation rule (empty when it keeps it, or when
    there is no class statement of ScratchAdamW to judge)."""
    tree = parse_submission(source)
    if tree is None:
        return ()
    nb = _Notebook(tree)
    out = _notebook_findings(nb)
    cls = nb.last_class()
    if cls is not None:
        todo: list[ast.AST] = [cls]
        seen: set[int] = {id(cls)}
        while todo:
            node = todo.pop()
            out += _closure_findings(nb, node)
            for name in _loaded_names(node):
                for binding in nb.bindings.get(name, []):
                    if id(binding) not in seen:
                        seen.add(id(binding))
                        todo.append(binding)
    unique = dict.fromkeys(out)
    return tuple(unique)


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
        if isinstance(binding, ast.ImportFrom) and (binding.module or "").startswith("torch") \
                and any(a.name == "Optimizer" and (a.asname or a.name) == node.id
                        for a in binding.names):
            return True
        if isinstance(binding, ast.Assign):
            seen.add(id(binding))
            if _is_optimizer_expr(nb, binding.value, seen):
                return True
    return False
