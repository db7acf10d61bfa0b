"""q2_adagrad (6 points): adagrad_step."""

from __future__ import annotations

import numpy as np
import pytest

from . import oracles
from .harness import (
    Case,
    Run,
    as_outputs,
    check_cases,
    check_runs,
    close,
    diagnose,
    draw,
    fail,
    numeric,
    uniform,
)


def _table(step) -> list[float]:
    """The accumulators of the chapter's table, one call each (constant gradient 10)."""
    return [
        float(step(1.0, 10.0, (steps - 1) * 100.0, 0.01)[1])
        for steps, _ in oracles.CHAPTER_ADAGRAD_TABLE
    ]


@pytest.mark.fixed
@pytest.mark.points(1)
def test_chapter_accumulator_table(student):
    """Constant gradient 10: the accumulator after 100, 1,000, 10,000 steps (chapter table);
    the step then has the effective learning rate lr / sqrt(accum)."""
    lr = 0.01
    got = []
    for steps, _ in oracles.CHAPTER_ADAGRAD_TABLE:
        got.append(
            as_outputs(
                "adagrad_step",
                student.call("adagrad_step", 1.0, 10.0, (steps - 1) * 100.0, lr),
                ("w_new", "accum_new"),
            )
        )
    for (steps, accum), (w_new, accum_new) in zip(oracles.CHAPTER_ADAGRAD_TABLE, got, strict=True):
        w_new = numeric(w_new)
        if not close(accum_new, accum, 1e-9):
            label = diagnose("adagrad_step", [_table], [[a for _, a in got]], [1e-9])
            fail(
                f"With a constant gradient of 10 the accumulator after {steps:,} steps should "
                f"be {accum:,.0f} (the chapter's table).",
                label,
            )
        if w_new is None or not close(1.0 - w_new, lr * 10.0 / (np.sqrt(accum) + 1e-8), 1e-6):
            old = w_new is not None and close(
                1.0 - w_new, lr * 10.0 / (np.sqrt(accum - 100.0) + 1e-8), 1e-6
            )
            fail(
                "The AdaGrad step should be (lr / sqrt(accum)) * grad, with the accumulator "
                "that already includes this step's grad**2.",
                "adagrad_old_accumulator" if old else "",
            )


@pytest.mark.points(2)
def test_adagrad_step_fresh(student, rng):
    """Single steps: zero and non-zero accumulators, tiny to large gradients, a scalar, float32,
    a given eps; inputs unchanged."""
    situations = (
        ((5,), 1.0, np.float64, True, {}, "the first step from a zero accumulator"),
        (
            (4,),
            1e-6,
            np.float64,
            True,
            {},
            "the first step from a zero accumulator with tiny gradients",
        ),
        ((3, 4), 1.0, np.float32, False, {}, "float32 arrays with a non-zero accumulator"),
        ((), 1.0, np.float64, False, {}, "Python floats"),
        (
            (2, 3, 2),
            1e-6,
            np.float64,
            False,
            {"eps": 1e-7},
            "tiny gradients with a small accumulator and a given eps",
        ),
        ((7,), 1e2, np.float64, False, {}, "large gradients"),
    )
    cases = []
    for shape, scale, dtype, zero, kwargs, what in situations:
        acc = (
            np.zeros(shape, dtype)
            if zero
            else draw(rng, shape, scale * scale, dtype, positive=True)
        )
        if shape == () and not zero:
            acc = float(acc)
        cases.append(
            Case(
                (
                    draw(rng, shape, 1.0, dtype),
                    draw(rng, shape, scale, dtype),
                    acc,
                    uniform(rng, 1e-3, 0.5),
                ),
                kwargs,
                what=what,
            )
        )
    check_cases(student, "adagrad_step", cases, oracles.adagrad, ("w_new", "accum_new"))


@pytest.mark.points(3)
def test_adagrad_matches_torch(student, rng):
    """Many steps against torch.optim.Adagrad: tiny gradients in float64, float32."""
    runs = []
    for dtype, scale, what in (
        (np.float64, 1e-6, "many steps with tiny gradients, float64"),
        (np.float32, 1.0, "many steps, float32"),
    ):
        n = int(rng.integers(20, 35))
        w0 = draw(rng, (6,), 1.0, dtype)
        grads = [draw(rng, (6,), scale, dtype) for _ in range(n)]
        lr = uniform(rng, 1e-3, 0.1)
        expected = oracles.torch_trajectory("adagrad", w0, grads, {"lr": lr})
        runs.append(Run(w0, grads, {"lr": lr}, expected, what))
    check_runs(
        student,
        "adagrad_step",
        runs,
        ("w_new", "accum_new"),
        takes_t=False,
        oracle_name="torch.optim.Adagrad",
    )
