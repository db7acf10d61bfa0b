"""Cells that kept a submission's code from running, named as what they are.

A cell that does not compile, timed out or killed its process leaves the functions
it defines undefined, and every check of their question then fails with "not
defined in your notebook", which reads as unwritten code. :func:`explain` finds
those questions and says why instead, on every path (the messages travel in the
result): "not graded: the cell defining `step` has a syntax error (line 7:
expected ':')". :func:`cell_problem` names one cell's problem for the console and
the feedback page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Protocol

from autograder.assignment.model import Assignment
from autograder.inside.probes import NOT_DEFINED, NOT_IMPLEMENTED
from autograder.results import CellRecord, SubmissionResult

NOT_GRADED = "not graded: "
COMPILE_ERRORS = {
    "SyntaxError": "a syntax error",
    "IndentationError": "an indentation error",
    "TabError": "an indentation error (tabs and spaces mixed)",
}
_COMPILE = re.compile(
    r"^(?P<kind>SyntaxError|IndentationError|TabError): (?P<what>.*?)"
    r"(?: \((?:<[^>]*>|[^(),]*), line (?P<line>\d+)\))?$",
    re.S,
)
_DEFINES = re.compile(r"^(?:async\s+def|def|class)\s+([A-Za-z_]\w*)|^([A-Za-z_]\w*)\s*[:=]", re.M)


class HasSource(Protocol):
    index: int
    source: str


def compile_error(cell: CellRecord) -> str | None:
    """``a syntax error (line 7: expected ':')`` for a cell that did not compile, else None."""
    if cell.status != "error":
        return None
    found = _COMPILE.match(cell.message.strip())
    if found is None:
        return None
    where = f"line {found['line']}: " if found["line"] else ""
    return f"{COMPILE_ERRORS[found['kind']]} ({where}{found['what'].strip()})"


def cell_problem(cell: CellRecord) -> str | None:
    """What went wrong in one cell, in words ("has a syntax error (line 7: ...)", "timed
    out after 60 s", "killed the kernel: ..."); None for a cell that ran."""
    problem = compile_error(cell)
    if problem:
        return f"has {problem}"
    if cell.status == "timeout":
        reason = _reason(cell.message)
        return (
            reason
            if reason.startswith(("timed out", "stopped"))
            else "timed out" + (f" ({reason})" if reason else "")
        )
    if cell.status == "died":
        return "killed the kernel" + (f" ({_reason(cell.message)})" if cell.message else "")
    return None


def _reason(message: str) -> str:
    """The part of the engine's message after "cell N" (the cell is named already)."""
    text = re.sub(r"^(the kernel died while running )?cell \d+ ?", "", message.strip())
    return text.removesuffix("; it was skipped").strip(" :")


def cell_problems(result: SubmissionResult) -> list[str]:
    """One line per cell that did not compile, timed out or killed the kernel:
    ``cell 13 has a syntax error (line 1: expected ':')`` (cells numbered from 1, as on
    the feedback page)."""
    return [
        f"cell {cell.index + 1} {problem}"
        for cell in result.cells
        if (problem := cell_problem(cell))
    ]


def defined_names(source: str) -> set[str]:
    """Names a cell defines at its top level (read as text: it may not compile)."""
    return {a or b for a, b in _DEFINES.findall(source)}


def explain(result: SubmissionResult, cells: Iterable[HasSource], assignment: Assignment) -> None:
    """Rewrite, in place, the failed checks of each question of ``assignment`` that could not
    be graded because a cell defining its functions did not compile, timed out or died."""
    sources = {cell.index: cell.source for cell in cells}
    broken: dict[str, str] = {}
    for record in result.cells:
        problem = cell_problem(record)
        if problem:
            for name in defined_names(sources.get(record.index, "")):
                broken.setdefault(name, problem)
    if not broken:
        return
    for question in assignment.questions:
        qr = result.questions.get(question.id)
        if qr is None:
            continue
        failed = [c for c in qr.checks if not c.passed]
        if not failed or not all(
            NOT_DEFINED in c.message or NOT_IMPLEMENTED in c.message for c in failed
        ):
            continue
        names = [n for n in question.names if n in broken]
        if not names:
            continue
        message = NOT_GRADED + _because(names, broken)
        for check in failed:
            check.message, check.diagnosis = message[0].upper() + message[1:], ""
        qr.note = message


def _because(names: Sequence[str], broken: dict[str, str]) -> str:
    first = names[0]
    return f"the cell defining `{first}` {broken[first]}"
