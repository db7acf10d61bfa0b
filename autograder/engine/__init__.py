"""Grading one submission notebook: reading it (``submission``), the student process's
session of cells and restarts (``session``) and the grader's handle on that process
(``process``), the :class:`~autograder.checks.student.Student` that calls into it
(``sandboxed_student``), the code a cell runs (``cell_code``), the containment strategy
chosen for the run (``containment``), a warm spare (``pool``), and ``grade_one`` (in
``grade``), which ties them to the hidden checks. It may import ``sandbox``, ``inside``, ``checks``, ``assignment``,
``wire`` and ``results``; never ``batch``, ``staff`` or ``integrations``.
"""

from __future__ import annotations

__all__ = ["grade_one", "prewarm"]


def __getattr__(name: str):
    if name == "grade_one":
        from autograder.engine.grade import grade_one

        return grade_one
    if name == "prewarm":
        from autograder.engine.pool import prewarm

        return prewarm
    raise AttributeError(name)
