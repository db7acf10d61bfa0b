"""``python -m autograder new <id>``: start a new assignment from a working example.

Creates ``solutions/<id>/`` with an assignment file holding one example question,
a solution notebook whose function is between solution markers (with a public
check cell and a free-response cell), that question's hidden check, public
self-checks and a contract page. ``make release ASSIGNMENT=<id>`` then writes
``assignments/<id>/``, and ``make grade ASSIGNMENT=<id>`` grades against it:
the released notebook scores 0, the solution full marks. Edit from there.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from autograder.assignment.model import SOLUTIONS

ASSIGNMENT_FILE = """\
# The assignment file of {id}: names, points, limits and policies in one place.

id = "{id}"
title = "{title}"
notebook = "{id}.ipynb"

[free_response]
points = 0
tag = "free_response"
prompt = "Explain your approach in two sentences."

[limits]
cell_timeout = 60
call_timeout = 10
total_timeout = 300
memory_mb = 4096

[late]
deadline = ""

[[questions]]
id = "q1_example"
points = 10
functions = {{ add = "(a, b)" }}
"""

CHECK_MODULE = '''\
"""q1_example (10 points): add."""

from __future__ import annotations

import pytest

from autograder.checks.checking import close, fail


@pytest.mark.points(4)
def test_add_worked_example(student):
    """The example the notebook gives: add(2, 3) is 5."""
    if not close(student.call("add", 2, 3), 5, 0.0):
        fail("`add(2, 3)` should be 5.")


@pytest.mark.points(6)
def test_add_drawn(student, rng):
    """Drawn numbers and arrays."""
    a, b = rng.normal(size=3), rng.normal(size=3)
    if not close(student.call("add", a, b), a + b, 1e-12):
        fail("`add` should add its arguments elementwise.")
'''

PUBLIC_CHECKS = '''\
"""Public self-checks: ``check("q1_example")`` in a notebook cell prints one line."""

from __future__ import annotations

import sys


def _q1_example(ns: dict) -> str:
    return "" if ns["add"](2, 3) == 5 else "add(2, 3) should be 5"


CHECKS = {"q1_example": _q1_example}


def check(question_id: str) -> bool:
    ns = sys._getframe(1).f_globals
    try:
        problem = CHECKS[question_id](ns)
    except NotImplementedError:
        problem = "not implemented yet"
    except Exception as exc:  # the student's code may raise anything
        problem = f"raised {type(exc).__name__}: {exc}"
    print(("\\u2714 " + question_id) if not problem else f"\\u2718 {question_id}: {problem}")
    return not problem
'''

CONTRACT = """\
# Assignment contract: "{title}"

Assignment id: `{id}`. One notebook: `{id}.ipynb`.

## q1_example: 10
- `add(a, b)`: `a + b`, for numbers and NumPy arrays (elementwise).
"""


def solution_notebook(assignment_id: str, title: str) -> nbformat.NotebookNode:
    """The example solution notebook: one question between solution markers."""
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    cells = [
        new_markdown_cell(f"# {title}\n\nReplace each `raise NotImplementedError` with your code."),
        new_code_cell("import numpy as np\n\nfrom public_checks import check"),
        new_markdown_cell("## q1_example: adding (10 points)\n\n`add(2, 3)` is 5."),
        new_code_cell(
            'def add(a, b):\n    """a + b, elementwise for arrays."""\n'
            "    # HINT: one line\n    ### BEGIN SOLUTION\n    return a + b\n"
            "    ### END SOLUTION",
            metadata={"tags": ["q1_example"]},
        ),
        new_code_cell('check("q1_example")'),
        new_markdown_cell("## Free response\n\nExplain your approach in two sentences."),
        new_markdown_cell(
            "<!-- BEGIN SOLUTION -->\nI added the two arguments.\n<!-- END SOLUTION -->",
            metadata={"tags": ["free_response"]},
        ),
    ]
    for i, cell in enumerate(cells):
        cell.id = f"cell-{i:03d}"
    return new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
    )


def create(assignment_id: str, title: str = "", root: Path = SOLUTIONS) -> Path:
    """Write ``root/<id>/``; refuse to overwrite an existing assignment."""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", assignment_id):
        raise ValueError(
            f"{assignment_id!r}: an assignment id is letters, digits and _ (a Python identifier)"
        )
    folder = root / assignment_id
    if folder.exists():
        raise FileExistsError(f"{folder} exists already; choose another id")
    title = title or assignment_id.replace("_", " ").capitalize()
    (folder / "checks").mkdir(parents=True)
    (folder / "assignment.toml").write_text(ASSIGNMENT_FILE.format(id=assignment_id, title=title))
    (folder / "checks" / "__init__.py").write_text("")
    (folder / "checks" / "test_q1_example.py").write_text(CHECK_MODULE)
    (folder / "public_checks.py").write_text(PUBLIC_CHECKS)
    (folder / "contract.md").write_text(CONTRACT.format(id=assignment_id, title=title))
    nbformat.write(solution_notebook(assignment_id, title), str(folder / f"{assignment_id}.ipynb"))
    return folder
