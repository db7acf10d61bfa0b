"""Reading notebooks (where an assignment's notebooks live: :mod:`autograder.assignment.model`).

``exec_notebook`` runs a *trusted* notebook's code in this process; it is for
instructor notebooks and tests only. Submissions are never executed here: the
engine runs them in a sandboxed process.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where a notebook is read: its schema library takes a second
    import nbformat


def read_notebook(path: str | Path) -> nbformat.NotebookNode:
    """Read a notebook as nbformat v4 (validated against its schema)."""
    import nbformat

    return nbformat.read(str(path), as_version=4)


def cell_sources(path: str | Path, cell_type: str = "code") -> list[str]:
    """The source of every cell of ``cell_type`` in an *instructor* notebook, in order.

    Read as plain JSON: the grader reads the solution on every start, and importing
    nbformat's schema validation costs about a second there. Submissions are never read
    this way (see :mod:`autograder.engine.submission`).
    """
    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    return ["".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            for cell in cells if cell["cell_type"] == cell_type]


def code_sources(path: str | Path) -> list[str]:
    """The source of every code cell of an instructor notebook, in order."""
    return cell_sources(path, "code")


def exec_notebook(path: str | Path, skip_magics: bool = True) -> dict[str, Any]:
    """Execute a trusted notebook's code cells in a fresh namespace and return it.

    Lines starting with ``%`` or ``!`` (IPython magics and shell escapes) are
    dropped when ``skip_magics`` is true.
    """
    namespace: dict[str, Any] = {"__name__": "__notebook__"}
    for source in code_sources(path):
        if skip_magics:
            source = "\n".join(
                line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))
            )
        exec(compile(source, str(path), "exec"), namespace)  # noqa: S102 - trusted notebook
    return namespace
