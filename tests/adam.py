"""The adam_variants assignment as the kit's tests name it (its file, loaded once).

Most tests are about the assignment the kit ships; they read its facts here, from
``solutions/adam_variants/assignment.toml``, never from the kit's generic modules.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from autograder.assignment.model import Question, load
from autograder.checks.run_checks import activate_suite

ASSIGNMENT = load("adam_variants")
ASSIGNMENT_ID = ASSIGNMENT.id
NOTEBOOK_NAME = ASSIGNMENT.notebook
QUESTIONS: tuple[Question, ...] = ASSIGNMENT.questions
QUESTION_IDS = ASSIGNMENT.question_ids
POINTS = ASSIGNMENT.points
CORE_POINTS = ASSIGNMENT.core_points
BONUS_POINTS = ASSIGNMENT.bonus_points
_free = ASSIGNMENT.free_response_points
FREE_RESPONSE_POINTS = int(_free) if _free.is_integer() else _free  # printed as the file has it
FREE_RESPONSE_TAG = ASSIGNMENT.free_response_tag
METHOD_SIGNATURES = {cls: methods for q in QUESTIONS for cls, methods in q.methods.items()}
SOLUTION_NOTEBOOK = ASSIGNMENT.solution_notebook
RELEASED_NOTEBOOK = ASSIGNMENT.released_notebook
RELEASE_DIR = ASSIGNMENT.release_dir
CHECKS_DIR = ASSIGNMENT.checks_dir
PUBLIC_CHECKS = ASSIGNMENT.public_checks


def all_names() -> list[str]:
    return ASSIGNMENT.all_names()


def owner(name: str) -> str:
    return ASSIGNMENT.owner(name)


def question(question_id: str) -> Question:
    return ASSIGNMENT.question(question_id)


public_checks = ASSIGNMENT.module("public_checks")
"""The assignment's public checks, as the released notebook imports them."""


def checks_module(name: str) -> ModuleType:
    """``checks.<name>`` of the assignment's hidden suite (its package made importable)."""
    activate_suite(ASSIGNMENT)
    return importlib.import_module(f"checks.{name}")
