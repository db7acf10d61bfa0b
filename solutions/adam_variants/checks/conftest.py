"""Markers of the hidden check suite (the kit's own, see ``autograder.checks.run_checks.MARKERS``).

Fixtures (``student``, ``seed``, ``rng``, ``device``, ``source``, ``artifacts``)
come from the plugin object of :func:`autograder.checks.run_checks.run_checks`; the
suite is meant to be run only through it.
"""

from __future__ import annotations

from autograder.checks.run_checks import MARKERS


def pytest_configure(config) -> None:
    for line in MARKERS:
        config.addinivalue_line("markers", line)
