"""q4_adam_step (14 points): bias_correction and adam_step."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.checks import oracles
from autograder.checks.harness import (
    SCALES,
    SHAPES,
    Case,
    check_cases,
    check_trajectory,
    close,
    draw,
    fail,
    numeric,
)

ADAM_OUT = ("w_new", "m_new", "v_new")


@pytest.mark.fixed
@pytest.mark.points(2)
def test_bias_correction_chapter_table(student):
    """The chapter's table of 1 - beta**t for beta 0.9 and 0.999 (printed to 3 decimals)."""
    for beta, row in oracles.CHAPTER_BIAS_TABLE.items():
        for t, printed in row.items():
            got = numeric(student.call("bias_correction", beta, t))
            if got is None or got.size != 1 or not abs(got.item() - printed) <= 6e-4:
                fail(f"`bias_correction({beta}, {t})` should be about {printed:.3f} "
                     "(the chapter's table).")


@pytest.mark.points(2)
def test_bias_correction_fresh(student, rng):
    """Drawn betas and step counts from 1 to 10,000: 1 - beta**t, the divisor."""
    for _ in range(6):
        beta = float(rng.uniform(0.5, 0.9999))
        t = int(rng.choice([1, 2, int(rng.integers(3, 100)), int(rng.integers(100, 10_000))]))
        got = student.call("bias_correction", beta, t)
        expected = 1.0 - beta**t
        if not close(got, expected, 1e-9):
            if close(got, 1.0 - beta ** (t + 1), 1e-9) or close(got, 1.0 - beta ** (t - 1), 1e-9):
                fail("`bias_correction` is off by one step.", "bias_correction_off_by_one")
            if close(got, 1.0 / expected, 1e-9):
                fail("`bias_correction` should return the divisor 1 - beta**t, not its inverse.")
            fail("`bias_correction(beta, t)` should return 1 - beta**t.")


def _adam_cases(rng) -> list[Case]:
    cases = []
    for shape, scale in zip(SHAPES, SCALES + (1.0,), strict=True):
        dtype = np.float32 if len(shape) == 2 else np.float64
        w = draw(rng, shape, 1.0, dtype)
        g = draw(rng, shape, scale, dtype)
        m = draw(rng, shape, scale, dtype)
        v = draw(rng, shape, scale * scale, dtype, positive=True)
        t = int(rng.choice([1, 2, int(rng.integers(3, 50)), int(rng.integers(50, 5000))]))
        kwargs = {"lr": float(rng.uniform(1e-4, 0.1)), "beta1": float(rng.uniform(0.5, 0.95)),
                  "beta2": float(rng.uniform(0.9, 0.9999))} if len(shape) % 2 else {}
        what = "tiny gradients" if scale < 1e-5 else "fresh inputs"
        cases.append(Case((w, g, m, v, t), kwargs, what=what))
    # The first step from zero state with tiny gradients: eps inside vs outside the sqrt.
    z = np.zeros(5)
    cases.append(Case((draw(rng, (5,), 1.0), draw(rng, (5,), 1e-6), z, z, 1),
                      what="the first step with tiny gradients"))
    return cases


@pytest.mark.points(4)
def test_adam_step_fresh(student, rng):
    """Single steps: drawn state, t, hyperparameters, scales 1e-6..1e2, float32; inputs unchanged."""
    check_cases(student, "adam_step", _adam_cases(rng), oracles.adam, ADAM_OUT)


@pytest.mark.points(6)
def test_adam_matches_torch(student, rng):
    """Many steps (t from 1) against torch.optim.Adam: defaults and drawn hyperparameters."""
    runs = [({}, np.float64, float(rng.choice(SCALES)), int(rng.integers(35, 50))),
            ({"lr": float(rng.uniform(1e-3, 0.05)), "beta1": float(rng.uniform(0.6, 0.95)),
              "beta2": float(rng.uniform(0.95, 0.9999)), "eps": float(rng.choice([1e-8, 1e-6]))},
             np.float32, 1.0, int(rng.integers(20, 30)))]
    for hp, dtype, scale, n in runs:
        w0 = draw(rng, (4,), 1.0, dtype)
        grads = [draw(rng, (4,), scale, dtype) for _ in range(n)]
        expected = oracles.torch_trajectory("adam", w0, grads, hp)
        check_trajectory(student, "adam_step", w0, grads, hp, expected, ADAM_OUT, takes_t=True,
                         what=f"many steps, {np.dtype(dtype).name}",
                         oracle_name="torch.optim.Adam")
