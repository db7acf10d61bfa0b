"""What every assignment's hidden checks may use: failing with a message, comparing numbers.

A check (a pytest function in ``solutions/<id>/checks/test_<question>.py``, marked
``@pytest.mark.points(n)``) receives the ``student``, ``rng``, ``seed``, ``device``,
``source`` and ``artifacts`` fixtures from :mod:`autograder.checks.run_checks`, asks the
student for values only through ``student`` (plain data comes back), and fails
by calling :func:`fail` with a sentence for the student, optionally naming the
recognised mistake (``diagnosis``). Messages describe the kind of input, never
the values, so the hidden probes stay hidden.
"""

from __future__ import annotations

from typing import Any, NoReturn

import numpy as np


class CheckFailed(Exception):
    """A failed hidden check: ``message`` for the student, ``diagnosis`` a mistake label.

    ``detail`` is what differs, without the sentence that explains a named mistake (the
    runner says that sentence once when several checks fail because of one mistake); an
    assignment's own subclass may compose ``message`` from the two."""

    def __init__(self, message: str, diagnosis: str = ""):
        super().__init__(message)
        self.message = message
        self.detail = message
        self.diagnosis = diagnosis


def fail(message: str, diagnosis: str = "") -> NoReturn:
    """Fail the current check with a student-facing ``message``."""
    raise CheckFailed(message, diagnosis)


_REVIEW_NOTES: list[str] = []


def flag_for_review(note: str) -> None:
    """Ask staff to look at this submission: the check could not decide something from what
    it sees. ``note`` goes to the result's ``review`` field and the staff report, never to the
    student's page, and changes no points."""
    _REVIEW_NOTES.append(note)


def take_review_notes() -> list[str]:
    """The notes flagged since the last call (the runner files them under the check)."""
    notes = list(_REVIEW_NOTES)
    _REVIEW_NOTES.clear()
    return notes


def numeric(value: Any) -> np.ndarray | None:
    """``value`` as a float64 array, or None when it is not numbers of one shape."""
    if isinstance(value, (bool, str, dict)) or value is None:
        return None
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return None


def close(actual: Any, expected: Any, tol: float) -> bool:
    """Same shape (a scalar may come back as a 1-element array) and values within ``tol``,
    relative to the largest magnitude in ``expected``; non-finite values must agree."""
    a, e = numeric(actual), np.asarray(expected, dtype=np.float64)
    if a is None:
        return False
    if e.ndim == 0:
        if a.size != 1:
            return False
        a = a.reshape(())
    elif a.shape != e.shape:
        return False
    finite = np.isfinite(e)
    if not np.array_equal(np.isfinite(a), finite):
        return False
    if not finite.all() and not np.array_equal(a[~finite], e[~finite], equal_nan=True):
        return False
    if not finite.any():
        return True
    scale = float(np.max(np.abs(e[finite])))
    return bool(np.all(np.abs(a[finite] - e[finite]) <= tol * max(scale, 1e-12)))
