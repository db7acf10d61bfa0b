"""Reading a submission file: validate it, hash it, split it into cells.

Anything that is not a readable nbformat-4 notebook becomes an
:class:`InvalidSubmission` with a student-facing message; nothing here executes
or imports the submission.
"""

from __future__ import annotations

import ast
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder.contract import FREE_RESPONSE_TAG
from autograder.engine.session import Cell

MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024


class InvalidSubmission(ValueError):
    """The file is not a notebook the kit can grade; ``str()`` says why."""


@dataclass
class Submission:
    """A validated notebook: its code cells, free-response answer and hash."""

    path: Path
    sha256: str
    cells: list[Cell]
    free_response: str

    @property
    def source(self) -> str:
        """The code cells' sources joined by blank lines (what static checks read).

        A cell that is not valid Python even after IPython's transformations
        (magics) is left out, so that a syntax error in one question's cell does
        not make the static checks of every other question fail to parse.
        """
        return "\n\n".join(cell.source for cell in self.cells if parses(cell.source))


def parses(source: str) -> bool:
    """Whether ``source`` is valid Python once IPython has rewritten its magics."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        ast.parse(TransformerManager().transform_cell(source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    except Exception:  # noqa: BLE001 - a transformer failure: keep the cell
        return True
    return True


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_submission(path: str | Path) -> Submission:
    """Read and validate ``path``; raise InvalidSubmission with a clear message."""
    path = Path(path)
    if not path.is_file():
        raise InvalidSubmission(f"{path.name}: no such file")
    size = path.stat().st_size
    if size == 0:
        raise InvalidSubmission(f"{path.name} is empty (0 bytes); submit the .ipynb notebook")
    if size > MAX_NOTEBOOK_BYTES:
        raise InvalidSubmission(
            f"{path.name} is {size / 1e6:.1f} MB; notebooks over "
            f"{MAX_NOTEBOOK_BYTES // (1024 * 1024)} MB are not graded (clear large outputs)")
    raw = path.read_bytes()
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        hint = ""
        if raw.lstrip()[:1] in (b"#", b"i", b"d", b"f") or b"def " in raw[:4096]:
            hint = " (it looks like a Python script renamed to .ipynb)"
        raise InvalidSubmission(
            f"{path.name} is not a Jupyter notebook: it is not valid JSON{hint}") from None
    if not isinstance(data, dict) or "cells" not in data and "worksheets" not in data:
        raise InvalidSubmission(f"{path.name} is JSON but not a Jupyter notebook")
    major = data.get("nbformat")
    if type(major) is not int or major < 4:
        raise InvalidSubmission(
            f"{path.name} uses notebook format {major!r}; only nbformat 4 is accepted "
            "(open and save it in a current Jupyter)")
    try:
        nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
    except Exception as exc:  # noqa: BLE001 - nbformat raises many kinds
        raise InvalidSubmission(f"{path.name} is not a readable notebook: {exc}") from None
    cells = []
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") == "code":
            source = cell.get("source", "")
            if not isinstance(source, str):
                raise InvalidSubmission(f"{path.name}: cell {index + 1} has no readable source")
            cells.append(Cell(index, source))
    if not nb.get("cells"):
        raise InvalidSubmission(f"{path.name} has no cells")
    return Submission(path, sha256_file(path), cells, free_response(nb))


def free_response(nb: nbformat.NotebookNode) -> str:
    """The free-response answer: the markdown cell tagged ``free_response``.

    Fallback: the first non-empty markdown cell after one whose text contains
    "Free response".
    """
    cells = nb.get("cells", [])
    for cell in cells:
        tags = cell.get("metadata", {}).get("tags", []) or []
        if cell.get("cell_type") == "markdown" and FREE_RESPONSE_TAG in tags:
            return str(cell.get("source", "")).strip()
    for i, cell in enumerate(cells):
        if cell.get("cell_type") == "markdown" and "free response" in str(
                cell.get("source", "")).lower():
            for later in cells[i + 1:]:
                if later.get("cell_type") == "markdown" and str(later.get("source", "")).strip():
                    return str(later["source"]).strip()
                if later.get("cell_type") == "code" and str(later.get("source", "")).strip():
                    break
    return ""
