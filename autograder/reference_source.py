"""Reference definitions for the no-double-jeopardy substitution.

``reference_source(names)`` returns Python source that defines ``names`` (and
the solution's own top-level definitions they use, transitively), extracted by
AST from the code cells of the instructor notebook
(:data:`autograder.notebook.SOLUTION_NOTEBOOK`), preceded by the imports they
need (``math``, ``numpy as np``, ``torch``, ``torch.nn as nn``). Executing it in
a copy of the student's namespace and binding only ``names`` back (what
``Student.substitute`` does) replaces those names and keeps the student's other
functions intact.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

from autograder import notebook

HEADER = "import math\n\nimport numpy as np\nimport torch\nimport torch.nn as nn\n\n"


def _strip_magics(source: str) -> str:
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                     for line in source.splitlines())


def _defined_names(node: ast.stmt) -> list[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return [t.id for t in targets if isinstance(t, ast.Name)]
    return []


def _segment(lines: list[str], node: ast.stmt) -> str:
    start = min([node.lineno, *[d.lineno for d in getattr(node, "decorator_list", [])]])
    return "\n".join(lines[start - 1:node.end_lineno])


@functools.lru_cache(maxsize=4)
def _definitions(path: str, mtime: float
                 ) -> tuple[dict[str, str], dict[str, set[str]], list[str], set[str]]:
    """name -> source, name -> names it uses, the definition order, and which names are
    functions or classes (only those are pulled in as dependencies; a top-level
    assignment such as ``results = compare_optimizers()`` never is)."""
    del mtime  # part of the cache key only
    sources: dict[str, str] = {}
    uses: dict[str, set[str]] = {}
    order: list[str] = []
    defs: set[str] = set()
    for cell in notebook.code_sources(notebook.read_notebook(path)):
        text = _strip_magics(cell)
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        lines = text.splitlines()
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
    return sources, uses, order, defs


def reference_source(names: list[str], notebook_path: str | Path | None = None) -> str:
    """Source defining ``names`` and their dependencies, from the solution notebook.

    Raises KeyError naming any name the solution does not define.
    """
    path = Path(notebook_path or notebook.SOLUTION_NOTEBOOK)
    sources, uses, order, defs = _definitions(str(path), path.stat().st_mtime)
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
    return HEADER + body + "\n"
