"""q2_adagrad (6 points): adagrad_step."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.checks import oracles
from autograder.checks.harness import (
    SCALES,
    SHAPES,
    Case,
    as_outputs,
    check_cases,
    check_trajectory,
    close,
    draw,
    fail,
    numeric,
)


@pytest.mark.fixed
@pytest.mark.points(1)
def test_chapter_accumulator_table(student):
    """Constant gradient 10: the accumulator after 100, 1,000, 10,000 steps (chapter table);
    the step then has the effective learning rate lr / sqrt(accum)."""
    lr = 0.01
    for steps, accum in oracles.CHAPTER_ADAGRAD_TABLE:
        w_new, accum_new = as_outputs(
            "adagrad_step", student.call("adagrad_step", 1.0, 10.0, (steps - 1) * 100.0, lr),
            ("w_new", "accum_new"))
        w_new = numeric(w_new)
        if not close(accum_new, accum, 1e-9):
            fail(f"With a constant gradient of 10 the accumulator after {steps:,} steps should "
                 f"be {accum:,.0f} (the chapter's table).")
        if w_new is None or not close(1.0 - w_new, lr * 10.0 / (np.sqrt(accum) + 1e-8), 1e-6):
            fail("The AdaGrad step should be (lr / sqrt(accum)) * grad, with the accumulator "
                 "that already includes this step's grad**2.")


@pytest.mark.points(2)
def test_adagrad_step_fresh(student, rng):
    """Single steps: tiny to large gradients, scalars and arrays, float32; inputs unchanged."""
    cases = []
    for shape, scale in zip(SHAPES, SCALES + (1.0,), strict=True):
        dtype = np.float32 if len(shape) == 2 else np.float64
        w = draw(rng, shape, 1.0, dtype)
        g = draw(rng, shape, scale, dtype)
        acc = draw(rng, shape, scale, dtype, positive=True)
        what = "tiny gradients" if scale < 1e-5 else "fresh inputs"
        cases.append(Case((w, g, acc, float(rng.uniform(1e-3, 0.5))),
                          {"eps": 1e-8} if len(shape) == 1 else {}, what=what))
    check_cases(student, "adagrad_step", cases, oracles.adagrad, ("w_new", "accum_new"))


@pytest.mark.points(3)
def test_adagrad_matches_torch(student, rng):
    """Many steps against torch.optim.Adagrad (float64 and float32, mixed-sign gradients)."""
    for dtype, scale in ((np.float64, float(rng.choice(SCALES))), (np.float32, 1.0)):
        n = int(rng.integers(20, 35))
        w0 = draw(rng, (6,), 1.0, dtype)
        grads = [draw(rng, (6,), scale, dtype) for _ in range(n)]
        lr = float(rng.uniform(1e-3, 0.1))
        expected = oracles.torch_trajectory("adagrad", w0, grads, {"lr": lr})
        check_trajectory(student, "adagrad_step", w0, grads, {"lr": lr}, expected,
                         ("w_new", "accum_new"), takes_t=False,
                         what=f"many steps, {np.dtype(dtype).name}",
                         oracle_name="torch.optim.Adagrad")
