"""Markers of the hidden check suite.

Fixtures (``student``, ``seed``, ``rng``, ``device``, ``source``, ``artifacts``)
come from the plugin object of :func:`autograder.run_checks.run_checks`; the
suite is meant to be run only through it.
"""

from __future__ import annotations

MARKERS = (
    "points(n): points this check is worth",
    "builds_on(*names): graded with the reference versions of these names substituted",
    "fixed: a check on fixed inputs (the chapter's numbers), passable by hard-coding",
    "cuda_only(twin): needs cuda; when skipped, earns its points iff the CPU twin passed",
)


def pytest_configure(config) -> None:
    for line in MARKERS:
        config.addinivalue_line("markers", line)
