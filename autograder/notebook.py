"""Reading notebooks (where an assignment's notebooks live: :mod:`autograder.assignment`).

``exec_notebook`` runs a *trusted* notebook's code in this process; it is for
instructor notebooks and tests only. Submissions are never executed here: the
engine runs them in a sandboxed process.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where a notebook is read: its schema library takes a second
    import nbformat

def read_notebook(path: str | Path) -> nbformat.NotebookNode:
    """Read a notebook as nbformat v4."""
    import nbformat

    return nbformat.read(str(path), as_version=4)


def code_sources(nb: nbformat.NotebookNode) -> list[str]:
    """The source of every code cell, in order."""
    return [cell.source for cell in nb.cells if cell.cell_type == "code"]


def exec_notebook(path: str | Path, skip_magics: bool = True) -> dict[str, Any]:
    """Execute a trusted notebook's code cells in a fresh namespace and return it.

    Lines starting with ``%`` or ``!`` (IPython magics and shell escapes) are
    dropped when ``skip_magics`` is true.
    """
    namespace: dict[str, Any] = {"__name__": "__notebook__"}
    for source in code_sources(read_notebook(path)):
        if skip_magics:
            source = "\n".join(
                line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))
            )
        exec(compile(source, str(path), "exec"), namespace)  # noqa: S102 - trusted notebook
    return namespace
