"""The grading engine: grade one submission notebook in an isolated student process.

``grade_one`` (in :mod:`autograder.engine.grade`) is the entry point; see the
modules for the parts: :mod:`isolation` (uids, mounts, cleanup), :mod:`worker`
(the student process), :mod:`process` (the grader's handle on it),
:mod:`session` (cells, restarts, replay), :mod:`sandbox` (``SandboxStudent``),
:mod:`pool` (a warm spare process), :mod:`zygote` (the warm parent every
submission process is forked from, as root) and :mod:`cli`.
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
