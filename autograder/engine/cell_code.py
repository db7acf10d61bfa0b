"""What the grader reads from a code cell's text before it runs it.

Two facts serve the time budget of :class:`autograder.engine.session.Session`:

* :func:`definitions_only`: the cell's top-level definitions (``def``, ``class``, imports and
  assignments that call nothing), run in place of a cell that timed out or killed its process,
  and of the cells left when the cells have used up their share of the time, so that the
  functions a notebook defines survive a demo that hangs;
* :class:`Reach`: the notebook functions a cell reaches (what its top-level code loads, and
  what those functions' bodies load, transitively; a call such as ``check("q1_step")``
  with a question id reaches that question's names), so that a later cell reaching a function
  a timed-out cell reached gets the short call limit instead of the cell limit.

Nothing here runs student code: the text is transformed as IPython would (magics become
calls) and parsed; a cell that does not parse keeps nothing and reaches nothing.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator

_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)
_SIDE_EFFECTS = (ast.Call, ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr)


def parse_cell(source: str) -> tuple[ast.Module, str] | None:
    """The cell as Python (IPython's transforms applied) and that text; None when it does not
    parse."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        text = TransformerManager().transform_cell(source)
        return ast.parse(text), text
    except Exception:  # any student text that does not parse keeps nothing
        return None


def _keeps(node: ast.stmt) -> bool:
    if isinstance(node, _DEFINITIONS):
        return True
    if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        plain = all(
            isinstance(n, (ast.Name, ast.Tuple, ast.List, ast.Starred, ast.Store, ast.Load))
            for t in targets
            for n in ast.walk(t)
        )
        return plain and not any(isinstance(n, _SIDE_EFFECTS) for n in ast.walk(node.value))
    return False


def definitions_only(source: str) -> str:
    """The cell's top-level definitions and call-free assignments, in order ("" when none)."""
    parsed = parse_cell(source)
    if parsed is None:
        return ""
    tree, text = parsed
    lines = text.splitlines()
    kept = []
    for node in tree.body:
        if _keeps(node):
            first = min([node.lineno, *[d.lineno for d in getattr(node, "decorator_list", [])]])
            kept.append("\n".join(lines[first - 1 : node.end_lineno]))
    return "\n".join(kept)


def _module_statements(tree: ast.Module) -> Iterator[ast.stmt]:
    """Top-level statements, including those inside top-level if/for/while/try/with."""
    stack = list(reversed(tree.body))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for name in ("body", "orelse", "finalbody", "handlers"):
            stack.extend(reversed([n for n in getattr(node, name, []) if isinstance(n, ast.AST)]))


def _loads(nodes: Iterable[ast.AST], question_names: dict[str, frozenset[str]]) -> set[str]:
    out: set[str] = set()
    for top in nodes:
        for n in ast.walk(top):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
                out.add(n.id)
            elif (
                isinstance(n, ast.Call)
                and n.args
                and isinstance(n.args[0], ast.Constant)
                and n.args[0].value in question_names
            ):
                out |= question_names[n.args[0].value]
    return out


class Reach:
    """The notebook's functions and classes seen so far, and what each one's body loads."""

    def __init__(self, question_names: dict[str, frozenset[str]] | None = None):
        self.question_names = question_names or {}
        self.uses: dict[str, set[str]] = {}

    def cell(self, source: str) -> set[str]:
        """Record the cell's definitions; return the notebook names its top-level code
        reaches (through the functions it calls, transitively)."""
        parsed = parse_cell(source)
        if parsed is None:
            return set()
        tree, _ = parsed
        top: list[ast.AST] = []
        for node in _module_statements(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.uses[node.name] = _loads(node.body, self.question_names)
                top += getattr(node, "decorator_list", [])
            elif not isinstance(node, (ast.If, ast.For, ast.While, ast.Try, ast.With)):
                top.append(node)
            else:  # the compound statement's own expressions; its body comes as statements
                top += [getattr(node, f) for f in ("test", "iter", "target") if hasattr(node, f)]
                top += [item.context_expr for item in getattr(node, "items", [])]
        names = {
            n
            for n in _loads(top, self.question_names)
            if n in self.uses or any(n in q for q in self.question_names.values())
        }
        todo = list(names)
        while todo:
            for used in self.uses.get(todo.pop(), ()):
                if used in self.uses and used not in names:
                    names.add(used)
                    todo.append(used)
        return names
