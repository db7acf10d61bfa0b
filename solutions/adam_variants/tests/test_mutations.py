"""Mutation suite: single-bug variants of the solution, graded in-process by the hidden checks.

Each textual mutant (``solutions/adam_variants/tests/mutants.py``) is the solution with one mistake in one function.
Under each of five seeds it must lose the same points, in its own question and in no other
(the no-double-jeopardy substitution), and the checks must name its mistake and no other.
Each student-written mutant (``solutions/adam_variants/tests/student_mutants.py``) replaces a whole function with a
student's buggy formulation; under three seeds it must be caught in its own question only
with the same points, never be given a wrong name, and at least 80% of them must be named
right. The summary tests print both (also ``make mutants``).
"""

from __future__ import annotations

import adam as contract
import pytest
from mutants import GRADED, MUTANTS, Mutant, grade_mutant, reaching_questions
from mutation_report import TARGET_RIGHT_STUDENT, summary
from student_mutants import SEEDS as STUDENT_SEEDS
from student_mutants import STUDENT_MUTANTS, Rewrite

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the mutants' own sqrt(-x)

mistakes = contract.checks_module("mistakes")


def test_mutants_are_many_distinct_and_named():
    assert len(MUTANTS) >= 60
    assert len({m.id for m in MUTANTS}) == len(MUTANTS)
    assert {m.diagnosis for m in MUTANTS} <= set(mistakes.DIAGNOSES)
    assert {m.question for m in MUTANTS} == set(contract.QUESTION_IDS)


def test_reaching_questions_follows_calls():
    source = MUTANTS[0].source()
    assert reaching_questions(source, "adam_step") == [
        "q4_adam_step",
        "q5_adam_trace",
        "q6_weight_decay",
        "q7_rosenbrock",
    ]
    assert reaching_questions(source, "train_flipnet") == ["q8_flipnet"]


FAST_TIER = ("adam_t_off_by_one", "bias_correction_missing")
"""The mutants ``make test`` grades; ``make test-all`` grades every one."""


@pytest.mark.parametrize(
    "mutant",
    [
        pytest.param(m, id=m.id, marks=() if m.id in FAST_TIER else pytest.mark.slow)
        for m in MUTANTS
    ],
)
def test_mutant_loses_the_same_points_under_every_seed_in_its_own_question_only(mutant: Mutant):
    outcome = grade_mutant(mutant)
    assert outcome.caught, f"{mutant.id} survived: {outcome.points}"
    assert outcome.seed_independent, {s: p[mutant.question] for s, p in outcome.points.items()}
    assert not outcome.lost_elsewhere, (outcome.lost_elsewhere, outcome.messages)
    assert outcome.naming == "right", (outcome.labels, outcome.messages)
    named = [
        m for m in outcome.messages if m.startswith(f"{mutant.question}/") and "known mistake" in m
    ]
    assert len(named) == 1, outcome.messages  # named once, the other checks refer to it


def test_student_mutants_are_many_distinct_and_cover_every_question():
    assert len(STUDENT_MUTANTS) >= 40
    assert len({m.id for m in STUDENT_MUTANTS} | {m.id for m in MUTANTS}) == len(
        STUDENT_MUTANTS
    ) + len(MUTANTS)
    assert {m.diagnosis for m in STUDENT_MUTANTS} - {""} <= set(mistakes.DIAGNOSES)
    assert {m.question for m in STUDENT_MUTANTS} >= set(contract.QUESTION_IDS) - {"q11_concepts"}
    named = [m for m in STUDENT_MUTANTS if m.diagnosis]
    assert len(named) >= TARGET_RIGHT_STUDENT * len(STUDENT_MUTANTS)


@pytest.mark.slow
@pytest.mark.parametrize("mutant", STUDENT_MUTANTS, ids=lambda m: m.id)
def test_student_mutant_is_caught_in_its_own_question_and_never_misnamed(mutant: Rewrite):
    outcome = grade_mutant(mutant, STUDENT_SEEDS)
    assert outcome.caught, f"{mutant.id} survived: {outcome.points}"
    assert outcome.seed_independent, {s: p[mutant.question] for s, p in outcome.points.items()}
    assert not outcome.lost_elsewhere, (outcome.lost_elsewhere, outcome.messages)
    assert outcome.naming != "wrong", (outcome.labels, outcome.messages)
    assert outcome.naming == ("right" if mutant.diagnosis else "vague"), outcome.messages
    assert outcome.public_naming != "wrong", outcome.public_lines


def test_student_mutation_summary(capsys):
    """Prints the summary of the student-written mutants graded in this session."""
    written = [GRADED[m.id] for m in STUDENT_MUTANTS if m.id in GRADED]
    if not written:
        pytest.skip("no student-written mutants ran in this selection")
    text, stats = summary(written, "student-written mutants", len(STUDENT_SEEDS))
    with capsys.disabled():
        print("\n" + text)
    assert stats["caught"] == stats["total"] and stats["lost_elsewhere"] == 0
    assert stats["wrong"] == 0 and stats["public_wrong"] == 0
    if stats["total"] == len(STUDENT_MUTANTS):
        assert stats["right"] >= TARGET_RIGHT_STUDENT * stats["total"]


def test_mutation_summary(capsys):
    """Prints the summary for the mutants graded in this session (visible without -s)."""
    old = [GRADED[m.id] for m in MUTANTS if m.id in GRADED]
    if not old:
        pytest.skip("no mutants ran in this selection")
    text, stats = summary(old)
    with capsys.disabled():
        print("\n" + text)
    assert stats["caught"] == stats["total"] and stats["lost_elsewhere"] == 0
    assert stats["right"] >= 0.9 * stats["total"] and stats["public_wrong"] == 0
    if stats["total"] == len(MUTANTS):
        assert stats["public"] >= 0.5 * stats["total"]
