"""Reading notebooks (where an assignment's notebooks live: :mod:`autograder.assignment.model`).

:func:`read_notebook_bytes` is the one way the kit reads a *submitted* notebook's bytes
(the engine, the similarity check and the cluster's upload share its size limit);
:func:`file_sha256` is the one digest of a file.

``exec_notebook`` runs a *trusted* notebook's code in this process; it is for
instructor notebooks and tests only. Submissions are never executed here: the
engine runs them in a sandboxed process.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where a notebook is read: its schema library takes a second
    import nbformat


MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024
"""The largest notebook file the kit reads (graded, compared, sent to a cluster worker)."""


class NotebookError(ValueError):
    """A notebook file that cannot be read (the message says why, naming the file)."""


def read_notebook_bytes(path: str | Path, limit: int = MAX_NOTEBOOK_BYTES) -> bytes:
    """The bytes of a regular file, opened without following a link, at most ``limit``;
    NotebookError (a ValueError) when it is a link, missing, not a regular file, empty or
    larger than ``limit``."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotebookError(
                f"{path.name} is a symbolic link; submit the notebook file itself"
            ) from None
        if exc.errno == errno.ENOENT:
            raise NotebookError(f"{path.name}: no such file") from None
        raise NotebookError(f"{path.name} could not be opened: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise NotebookError(f"{path.name} is not a regular file")
        if info.st_size == 0:
            raise NotebookError(f"{path.name} is empty (0 bytes); submit the .ipynb notebook")
        if info.st_size > limit:
            raise NotebookError(
                f"{path.name} is {info.st_size / 1e6:.1f} MB, larger than the "
                f"{limit // (1024 * 1024)} MB a notebook may be; notebooks over it are not "
                "graded (clear large outputs)"
            )
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise NotebookError(f"{path.name} grew while it was read; not graded")
    return data


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes (hex), read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
    return [
        "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        for cell in cells
        if cell["cell_type"] == cell_type
    ]


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
        exec(compile(source, str(path), "exec"), namespace)  # trusted notebook
    return namespace
