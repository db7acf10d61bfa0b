"""Mutation suite: single-bug variants of the solution, graded in-process by the hidden checks.

Each mutant (``tests/mutants.py``) is the solution with one mistake in one function. Under
each of five seeds it must lose the same points, in its own question and in no other (the
no-double-jeopardy substitution), and the checks must name its mistake and no other. The
last test prints the summary (also ``make mutants``).
"""

from __future__ import annotations

import adam as contract
import pytest
from mutants import GRADED, MUTANTS, Mutant, grade_mutant, reaching_questions
from mutation_report import summary

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
        "q4_adam_step", "q5_adam_trace", "q6_weight_decay", "q7_rosenbrock"]
    assert reaching_questions(source, "train_flipnet") == ["q8_flipnet"]


FAST_TIER = ("adam_t_off_by_one", "bias_correction_missing")
"""The mutants ``make test`` grades; ``make test-all`` grades every one."""


@pytest.mark.parametrize("mutant", [
    pytest.param(m, id=m.id, marks=() if m.id in FAST_TIER else pytest.mark.slow)
    for m in MUTANTS])
def test_mutant_loses_the_same_points_under_every_seed_in_its_own_question_only(mutant: Mutant):
    outcome = grade_mutant(mutant)
    assert outcome.caught, f"{mutant.id} survived: {outcome.points}"
    assert outcome.seed_independent, {s: p[mutant.question] for s, p in outcome.points.items()}
    assert not outcome.lost_elsewhere, (outcome.lost_elsewhere, outcome.messages)
    assert outcome.naming == "right", (outcome.labels, outcome.messages)
    named = [m for m in outcome.messages if m.startswith(f"{mutant.question}/")
             and "known mistake" in m]
    assert len(named) == 1, outcome.messages  # named once, the other checks refer to it


def test_mutation_summary(capsys):
    """Prints the summary for the mutants graded in this session (visible without -s)."""
    if not GRADED:
        pytest.skip("no mutants ran in this selection")
    text, stats = summary(list(GRADED.values()))
    with capsys.disabled():
        print("\n" + text)
    assert stats["caught"] == stats["total"] and stats["lost_elsewhere"] == 0
    assert stats["right"] >= 0.9 * stats["total"] and stats["public_wrong"] == 0
    if stats["total"] == len(MUTANTS):
        assert stats["public"] >= 0.5 * stats["total"]
