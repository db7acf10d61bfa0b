"""Feedback pages built from real in-process grades never contradict themselves: the
substitution note once per question, unwritten questions in one line each, a mistake
named once, no GPU talk for code that is not written, plots from the student's own code."""

from __future__ import annotations

import re

from adam import ASSIGNMENT, QUESTIONS
from checks_support import grade, namespace_from, solution_definitions
from test_checks import _stub_source

from autograder.results import SubmissionResult
from autograder.staff.feedback import render_feedback


def _page(source: str, seed: int = 6) -> str:
    artifacts: dict = {}
    questions = grade(namespace_from(source), seed=seed, source=source, artifacts=artifacts)
    result = SubmissionResult(
        "student", "graded", questions=questions, artifacts=artifacts, seed=seed
    )
    result.recompute_total()
    return render_feedback(result, ASSIGNMENT)


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def test_an_unwritten_notebook_gets_a_short_page():
    text = _text(_page(_stub_source()))
    assert text.count("not written yet") == len(QUESTIONS)
    assert "not implemented yet" not in text
    assert "GPU" not in text
    assert "Graded with the reference" not in text  # no note for code that is not written
    assert len(text) < 6000


def test_a_mistake_reads_once_and_the_substitution_note_once_per_question():
    source = (
        solution_definitions()
        .replace("m_hat = m_new / bias_correction(beta1, t)", "m_hat = m_new")
        .replace("v_hat = v_new / bias_correction(beta2, t)", "v_hat = v_new")
    )
    text = _text(_page(source))
    assert text.count("This looks like a known mistake") == 1
    assert "same mistake as in the first failed check" in text
    assert "test_" not in text  # a hidden check's name never reaches a student
    builds_on = ("q5_adam_trace", "q6_weight_decay", "q7_rosenbrock", "q8_flipnet")
    assert text.count("Graded with the reference") == len(builds_on)
    assert "Your Adam trace against the reference" in text  # the student's own trace parts
    assert "Your Adam trace matches" not in text


def test_a_summed_flipnet_loss_is_plotted_not_reported_as_matching():
    source = solution_definitions().replace(
        "torch.mean((model(X[i]) - Y[i]) ** 2)", "torch.sum((model(X[i]) - Y[i]) ** 2)"
    )
    html = _page(source)
    text = _text(html)
    assert "flipnet_loss_summed" in text
    assert "match the reference curves" not in text
    assert "Your FlipNet losses against the reference" in text
    assert html.count("data:image/png;base64,") == 1
