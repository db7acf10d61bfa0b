"""The assignment file against the places that repeat its points.

Points live in ``assignment.toml``. The solution notebook prints them in its question
headings and every hidden check carries a ``points`` marker; :func:`verify` reads both
and stops with a message naming the two places that disagree. ``make release``,
``make grade``, ``make gradescope`` and ``make nbgrader`` run it before they do anything.
"""

from __future__ import annotations

import re
from pathlib import Path

from autograder.assignment.catalog import CheckSpec, collect_checks
from autograder.assignment.model import FILE, Assignment, AssignmentError
from autograder.assignment.notebook import cell_sources

HEADING = re.compile(r"\s*#+\s*(\w+)")
POINTS = re.compile(r"(\d+)\s+points?\)")


def printed_points(notebook: Path, question_ids: tuple[str, ...]) -> dict[str, int]:
    """The points each question's heading states (``## q2_name: ... (14 points)``, or
    ``(bonus, up to 10 points)``), from the notebook's markdown."""
    found: dict[str, int] = {}
    for source in cell_sources(notebook, "markdown"):
        for line in source.splitlines():
            heading, points = HEADING.match(line), POINTS.search(line)
            if heading and points and heading[1] in question_ids:
                found.setdefault(heading[1], int(points[1]))
    return found


def check_printed_points(assignment: Assignment, notebook: Path) -> None:
    """AssignmentError when a question heading of ``notebook`` states other points than the
    assignment file."""
    for qid, printed in printed_points(notebook, assignment.question_ids).items():
        wanted = assignment.question(qid).points
        if printed != wanted:
            raise AssignmentError(
                f"{qid}: {assignment.folder / FILE} says {wanted} points, but its heading in "
                f"{notebook} says {printed}; change one of the two"
            )


def verify(assignment: Assignment, solution: Path | None = None) -> dict[str, list[CheckSpec]]:
    """The solution's printed points (``solution``, default the assignment's notebook) and
    the checks' markers against the assignment file.

    Returns the check catalogue; raises AssignmentError or CatalogError (both name the
    assignment file and the other place) on the first disagreement.
    """
    solution = solution or assignment.solution_notebook
    if not solution.is_file():
        raise AssignmentError(
            f"{assignment.folder / FILE} names the notebook "
            f"{assignment.notebook!r}, but {solution} does not exist"
        )
    check_printed_points(assignment, solution)
    return collect_checks(assignment)
