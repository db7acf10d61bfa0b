"""The public self-checks: their worked examples, their wording, and answers read like the
grader reads them (the share of the mutation suite they flag is in test_mutations.py)."""

from __future__ import annotations

import contextlib
import copy
import io
import re

import numpy as np
import pytest
import torch
from adam import ASSIGNMENT, checks_module, public_checks
from checks_support import namespace_from, solution_definitions
from public_tables import _scratch_probe_format, computed

from autograder.checks.run_checks import run_checks
from autograder.checks.student import InProcessStudent

mistakes, scratch_mistakes = checks_module("mistakes"), checks_module("scratch_mistakes")
EXPECTED, KNOWN, MISTAKES = public_checks.EXPECTED, public_checks.KNOWN, public_checks.MISTAKES
check, normalise_answer = public_checks.check, public_checks.normalise_answer


def _agree(a: list[float], b: list[float], rtol: float) -> bool:
    return public_checks._agree(a, b, rtol) and public_checks._agree(b, a, rtol)


def test_the_shipped_tables_match_the_oracles_and_the_known_mistakes():
    """EXPECTED comes from torch.optim and the contract's formulas, KNOWN from the hidden
    suite's catalogue of mistakes; regenerate with `python solutions/adam_variants/tests/public_tables.py --write`."""
    expected, known = computed()
    assert set(EXPECTED) == set(expected) and set(KNOWN) == set(known)
    for name, values in expected.items():
        assert _agree(EXPECTED[name], values, 1e-9), name
    for name, table in known.items():
        assert set(KNOWN[name]) == set(table), name
        for key, values in table.items():
            assert _agree(KNOWN[name][key], values, 1e-9), (name, key)


def test_the_scratch_example_agrees_with_torch_and_the_replay():
    """The public AdamW example: torch.optim.AdamW (what the check compares with) and the
    grader's replay of AdamW (what KNOWN's mistakes are variants of) agree."""
    example = public_checks.SCRATCH_EXAMPLE
    got = public_checks._scratch_run(
        lambda groups: torch.optim.AdamW(groups, lr=1e-3, weight_decay=0.0), example
    )
    replay = scratch_mistakes.run_adamw(*_scratch_probe_format())["history"][-1]
    assert _agree(got, public_checks._flat(replay), 1e-6)


def test_public_and_hidden_checks_share_their_sentences():
    assert mistakes.DIAGNOSES is MISTAKES
    labels = {key.split("#")[0] for table in KNOWN.values() for key in table}
    text = open(public_checks.__file__, encoding="utf-8").read()
    labels |= set(re.findall(r"MISTAKES\['(\w+)'\]", text))
    assert labels and labels <= set(MISTAKES)


@pytest.mark.parametrize(
    "answers",
    [
        {
            "ANSWER_1D_WINNER": "Momentum",
            "ANSWER_FLIPNET_WINNER": " momentum ",
            "ANSWER_DECOUPLED": "AdamW ",
        },
        {
            "ANSWER_1D_WINNER": "'momentum'",
            "ANSWER_FLIPNET_WINNER": "MOMENTUM",
            "ANSWER_DECOUPLED": "adamw",
        },
    ],
)
def test_answers_are_read_alike_by_public_and_hidden_checks(answers):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        passed, total = check("q11_concepts", namespace=dict(answers))
    assert passed == total == 3, out.getvalue()
    hidden = run_checks(
        InProcessStudent(dict(answers), ASSIGNMENT),
        assignment=ASSIGNMENT,
        seed=1,
        questions=["q11_concepts"],
    )
    assert hidden["q11_concepts"].points == 6
    assert {normalise_answer(v) for v in answers.values()} <= {"momentum", "adamw"}


def test_a_named_public_failure_uses_the_hidden_sentence():
    source = solution_definitions().replace("np.sqrt(v_hat) + eps", "np.sqrt(v_hat + eps)")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        check("q4_adam_step", namespace=namespace_from(source))
    failed = [line for line in out.getvalue().splitlines() if line.startswith("\u2718")]
    assert failed and all(MISTAKES["eps_inside_sqrt"] in line for line in failed)


def test_examples_do_not_change_between_calls():
    """A check copies its example inputs, so a function that modifies them in place cannot
    change what the next check sees."""
    before = copy.deepcopy(public_checks.EXAMPLES["clip_grad_norm"])

    def clip_in_place(grads, max_norm):
        for g in grads:
            g *= 0
        return grads, 0.0

    with contextlib.redirect_stdout(io.StringIO()):
        check("q10_recipe", namespace={"clip_grad_norm": clip_in_place})
    after = public_checks.EXAMPLES["clip_grad_norm"]
    for (args_b, _), (args_a, _) in zip(before, after, strict=True):
        assert all(np.array_equal(a, b) for a, b in zip(args_a[0], args_b[0], strict=True))


def test_check_all_prints_one_row_per_question_with_its_points():
    """The closing summary: every question once, with the points the contract gives it."""
    import adam as contract

    assert public_checks.POINTS == contract.POINTS
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        table = public_checks.check_all(namespace=namespace_from(solution_definitions()))
    rows = out.getvalue().splitlines()
    assert set(table) == set(contract.QUESTION_IDS)
    assert all(r.passed == r.total for r in table.values())
    for qid in contract.QUESTION_IDS:
        (row,) = [r for r in rows if r.split()[0] == qid]
        assert row.split()[-1].lstrip("+") == str(contract.POINTS[qid]) or row.split()[-2].lstrip(
            "+"
        ) == str(contract.POINTS[qid]), row


def test_a_blank_question_says_not_implemented_once_per_function():
    """A notebook with every function left as a stub: one line per function, never one per
    check (q8 has 8 checks over 4 names)."""

    def stub(*args, **kwargs):
        raise NotImplementedError

    ns = {
        name: stub for name in ("FlipNet", "make_flip_data", "train_flipnet", "compare_optimizers")
    }
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        check("q8_flipnet", namespace=ns)
    lines = out.getvalue().splitlines()[:-1]
    assert len(lines) == len(set(lines)) <= 4, lines
    assert all("not implemented yet" in line for line in lines)


def test_a_failure_caused_by_an_earlier_function_names_it():
    """One bug in adam_step: q5, q6 and q7 say their failures come from adam_step (q4)."""
    source = solution_definitions().replace("(1 - beta2) * grad**2", "(1 - beta2) * abs(grad)")
    ns = namespace_from(source)
    for qid in ("q5_adam_trace", "q6_weight_decay", "q7_rosenbrock"):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            check(qid, namespace=ns)
        failed = [line for line in out.getvalue().splitlines() if line.startswith("\u2718")]
        assert failed and all(
            "this uses your `adam_step`, which fails q4_adam_step's checks" in line
            for line in failed
        ), failed
