"""The assignment's public self-checks (``../public_checks.py``), as the hidden suite reads them:
one source for the sentences that name a mistake, and for normalising concept answers."""

from __future__ import annotations

from pathlib import Path

from autograder.assignment.model import load

public_checks = load(str(Path(__file__).resolve().parent.parent)).module("public_checks")
MISTAKES = public_checks.MISTAKES
normalise_answer = public_checks.normalise_answer
