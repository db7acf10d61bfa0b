"""``python -m autograder samples``: regenerate the assignment's sample submissions.

Samples are the assignment's own (``samples.py`` in its folder, with a ``main``);
this command runs it for the current assignment.
"""

from __future__ import annotations

from autograder.assignment.model import current


def main(argv: list[str] | None = None) -> int:
    assignment = current()
    module = assignment.module("samples")
    if module is None:
        print(f"error: {assignment.id} has no samples.py in {assignment.folder}")
        return 2
    return int(module.main(argv) or 0)
