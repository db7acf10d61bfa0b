"""Reference definitions for the no-double-jeopardy substitution.

``reference_source(names, solution)`` returns Python source that defines ``names`` (and
the solution's own top-level definitions they use, transitively), extracted by
AST from the code cells of the assignment's solution notebook, preceded by the
notebook's own top-level imports (but for the public self-checks). Executing it in
a copy of the student's namespace and binding only ``names`` back (what
``Student.substitute`` does) replaces those names and keeps the student's other
functions intact.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

from autograder.assignment import notebook

NOT_IMPORTED = ("public_checks", "autograder")
"""Modules of the solution's imports that the reference does not need."""


def _strip_magics(source: str) -> str:
    return "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()
    )


def _defined_names(node: ast.stmt) -> list[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return [t.id for t in targets if isinstance(t, ast.Name)]
    return []


def _segment(lines: list[str], node: ast.stmt) -> str:
    start = min([node.lineno, *[d.lineno for d in getattr(node, "decorator_list", [])]])
    return "\n".join(lines[start - 1 : node.end_lineno])


def _imports(tree: ast.Module, lines: list[str]) -> list[str]:
    """The top-level import statements of a cell (but for modules the reference needs not)."""
    out = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
            )
            if not any(m.split(".")[0] in NOT_IMPORTED for m in modules):
                out.append(_segment(lines, node))
    return out


@functools.lru_cache(maxsize=4)
def _definitions(
    path: str, mtime: float
) -> tuple[dict[str, str], dict[str, set[str]], list[str], set[str], str]:
    """name -> source, name -> names it uses, the definition order, which names are
    functions or classes (only those are pulled in as dependencies; a top-level
    assignment such as ``results = run_experiment()`` never is), and the imports."""
    del mtime  # part of the cache key only
    sources: dict[str, str] = {}
    uses: dict[str, set[str]] = {}
    order: list[str] = []
    defs: set[str] = set()
    imports: list[str] = []
    for cell in notebook.code_sources(path):
        text = _strip_magics(cell)
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        lines = text.splitlines()
        imports += [i for i in _imports(tree, lines) if i not in imports]
        for node in tree.body:
            for name in _defined_names(node):
                sources[name] = _segment(lines, node)
                uses[name] = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
                if name not in order:
                    order.append(name)
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    defs.add(name)
                else:
                    defs.discard(name)
    return sources, uses, order, defs, "\n".join(imports) + "\n\n\n"


def reference_source(names: list[str], notebook_path: str | Path) -> str:
    """Source defining ``names`` and their dependencies, from the solution notebook at
    ``notebook_path`` (``Assignment.solution_notebook``).

    Raises KeyError naming any name the solution does not define.
    """
    path = Path(notebook_path)
    sources, uses, order, defs, header = _definitions(str(path), path.stat().st_mtime)
    missing = [n for n in names if n not in sources]
    if missing:
        raise KeyError(f"the solution notebook does not define {', '.join(missing)}")
    needed: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in needed:
            continue
        needed.add(name)
        todo += [u for u in uses[name] if u in defs and u not in needed]
    body = "\n\n\n".join(sources[n] for n in order if n in needed)
    return header + body + "\n"
