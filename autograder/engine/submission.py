"""Reading a submission file: bounded, link-free, validated, split into cells.

Anything that is not a readable nbformat-4 notebook of this assignment becomes
an :class:`InvalidSubmission` with a student-facing message. The file is opened
without following symbolic links and its size is checked before a byte of it is
parsed; the notebook is read as plain JSON (no schema validation, which would
cost the grader far more memory than the file's size), and only what grading
needs is kept. Nothing here executes or imports the submission.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.assignment.model import Assignment
from autograder.assignment.notebook import (
    MAX_NOTEBOOK_BYTES,
    NotebookError,
    read_notebook_bytes,
)
from autograder.engine.session import Cell

MAX_CELLS = 1000
MAX_ANALYSED_CODE_BYTES = 256 * 1024
"""Code (all code cells together, UTF-8) the grader parses for its static checks. Python's
parser needs up to about 500 bytes of memory per byte of dense code (``(1,1,1,...)``), so
this bounds a parse at about 128 MiB; the solution's code is 21 KB. A notebook with more
code is graded as usual, but its static checks read none of it (they fail, saying why)."""
ASSIGNMENT_KEY = "autograder"
"""Notebook metadata ``{"autograder": {"assignment": <id>}}`` names the assignment."""


class InvalidSubmission(ValueError):
    """The file is not a notebook the kit can grade; ``str()`` says why."""


@dataclass
class Submission:
    """A validated notebook: its code cells, free-response answer, text and hash."""

    path: Path
    sha256: str
    cells: list[Cell]
    free_response: str
    text: str = ""
    """The notebook file's text (what the student process gets as its notebook)."""

    @property
    def code_bytes(self) -> int:
        """The size of the code cells' sources together (UTF-8 bytes)."""
        return sum(len(cell.source.encode("utf-8", "surrogatepass")) for cell in self.cells)

    @property
    def analysed(self) -> bool:
        """Whether the grader parses this code for its static checks (at most
        :data:`MAX_ANALYSED_CODE_BYTES`)."""
        return self.code_bytes <= MAX_ANALYSED_CODE_BYTES

    @property
    def source(self) -> str:
        """The code cells' sources joined by blank lines (what static checks read); empty
        when there is more code than the grader parses (see :attr:`analysed`).

        A cell that is not valid Python even after IPython's transformations
        (magics) is left out, so that a syntax error in one question's cell does
        not make the static checks of every other question fail to parse.
        """
        if not self.analysed:
            return ""
        return "\n\n".join(cell.source for cell in self.cells if parses(cell.source))


def parses(source: str) -> bool:
    """Whether ``source`` is valid Python once IPython has rewritten its magics."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        ast.parse(TransformerManager().transform_cell(source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    except Exception:  # a transformer failure: keep the cell
        return True
    return True


def read_bounded(path: Path, limit: int = MAX_NOTEBOOK_BYTES) -> bytes:
    """The bytes of a regular file, opened without following a link, at most ``limit``."""
    try:
        return read_notebook_bytes(path, limit)
    except NotebookError as exc:
        raise InvalidSubmission(str(exc)) from None


def _text(value: Any) -> str | None:
    """A cell's source: a string or nbformat's list of lines; None when it is neither."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "".join(value)
    return None


def load_submission(path: str | Path, assignment: Assignment) -> Submission:
    """Read and validate ``path``; raise InvalidSubmission with a clear message."""
    path = Path(path)
    raw = read_bounded(path)
    try:
        text = raw.decode("utf-8")
        data = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError):
        hint = ""
        if raw.lstrip()[:1] in (b"#", b"i", b"d", b"f") or b"def " in raw[:4096]:
            hint = " (it looks like a Python script renamed to .ipynb)"
        raise InvalidSubmission(
            f"{path.name} is not a Jupyter notebook: it is not valid JSON{hint}"
        ) from None
    if not isinstance(data, dict) or "cells" not in data and "worksheets" not in data:
        raise InvalidSubmission(f"{path.name} is JSON but not a Jupyter notebook")
    major = data.get("nbformat")
    if type(major) is not int or major < 4:
        raise InvalidSubmission(
            f"{path.name} uses notebook format {major!r}; only nbformat 4 is accepted "
            "(open and save it in a current Jupyter)"
        )
    raw_cells = data.get("cells")
    if not isinstance(raw_cells, list) or not all(isinstance(c, dict) for c in raw_cells):
        raise InvalidSubmission(
            f"{path.name} is not a readable notebook: its cells are not a list of cells"
        )
    if not raw_cells:
        raise InvalidSubmission(f"{path.name} has no cells")
    if len(raw_cells) > MAX_CELLS:
        raise InvalidSubmission(
            f"{path.name} has {len(raw_cells)} cells; notebooks with more "
            f"than {MAX_CELLS} cells are not graded"
        )
    cells: list[Cell] = []
    for index, cell in enumerate(raw_cells):
        if cell.get("cell_type") == "code":
            source = _text(cell.get("source", ""))
            if source is None:
                raise InvalidSubmission(f"{path.name}: cell {index + 1} has no readable source")
            cells.append(Cell(index, source))
    _check_assignment(path.name, data, raw_cells, cells, assignment)
    answer = free_response(raw_cells, assignment.free_response_tag)
    return Submission(path, hashlib.sha256(raw).hexdigest(), cells, answer, text)


def _check_assignment(
    name: str, data: dict, raw_cells: list[dict], cells: list[Cell], assignment: Assignment
) -> None:
    """Refuse a notebook of another assignment: it must name ``assignment`` in its metadata,
    carry one of its question tags, or define one of its names."""
    meta = data.get("metadata")
    declared = meta.get(ASSIGNMENT_KEY) if isinstance(meta, dict) else None
    declared = declared.get("assignment") if isinstance(declared, dict) else None
    if declared == assignment.id:
        return
    if isinstance(declared, str):
        raise InvalidSubmission(
            f"{name} is not the {assignment.id} notebook: it belongs to "
            f"the assignment {declared[:80]!r}"
        )
    for cell in raw_cells:
        tags = (
            cell.get("metadata", {}).get("tags") if isinstance(cell.get("metadata"), dict) else None
        )
        if isinstance(tags, list) and any(
            t in assignment.question_ids for t in tags if isinstance(t, str)
        ):
            return
    pattern = re.compile(r"^\s*(?:def|class)\s+(\w+)|^\s*(\w+)\s*=", re.MULTILINE)
    names = set(assignment.all_names())
    for cell in cells:
        for match in pattern.finditer(cell.source):
            if (match.group(1) or match.group(2)) in names:
                return
    examples = ", ".join(assignment.all_names()[:3])
    raise InvalidSubmission(
        f"{name} is not the {assignment.id} notebook: it defines none of "
        f"the assignment's names ({examples}, ...) and has none of its "
        "cells; submit the assignment's notebook"
    )


def free_response_index(cells: list, tag: str) -> int | None:
    """Which cell holds the free-response answer: the markdown cell tagged ``tag`` (the
    assignment's ``free_response_tag``), else the first non-empty markdown cell after one whose text contains "Free response"."""

    def tags(cell: dict) -> list:
        meta = cell.get("metadata")
        found = meta.get("tags") if isinstance(meta, dict) else None
        return found if isinstance(found, list) else []

    for i, cell in enumerate(cells):
        if cell.get("cell_type") == "markdown" and tag in tags(cell):
            return i
    for i, cell in enumerate(cells):
        if (
            cell.get("cell_type") == "markdown"
            and "free response" in (_text(cell.get("source", "")) or "").lower()
        ):
            for j in range(i + 1, len(cells)):
                later = cells[j]
                text = (_text(later.get("source", "")) or "").strip()
                if later.get("cell_type") == "markdown" and text:
                    return j
                if later.get("cell_type") == "code" and text:
                    break
    return None


def free_response(cells: list, tag: str) -> str:
    """The free-response answer (see :func:`free_response_index`), or ""."""
    index = free_response_index(cells, tag)
    return "" if index is None else (_text(cells[index].get("source", "")) or "").strip()
