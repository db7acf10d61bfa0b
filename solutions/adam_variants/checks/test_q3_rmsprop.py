"""q3_rmsprop (8 points): rmsprop_step."""

from __future__ import annotations

import numpy as np
import pytest

from . import oracles
from .harness import Case, Run, check_cases, check_runs, draw, uniform


@pytest.mark.points(3)
def test_rmsprop_step_fresh(student, rng):
    """Single steps from a zero and a non-zero v, default and given rho, tiny gradients, float32;
    inputs unchanged."""
    situations = (
        ((5,), 1.0, np.float64, True, False, "the first step from a zero v"),
        ((4,), 1e-6, np.float64, True, False, "the first step from a zero v with tiny gradients"),
        ((7,), 1.0, np.float64, False, True, "a non-zero v and a given rho"),
        ((3, 4), 1.0, np.float32, False, True, "float32 arrays with a non-zero v"),
        (
            (2, 3, 2),
            1e-3,
            np.float64,
            False,
            False,
            "small gradients (around 1e-3) with a non-zero v",
        ),
        ((1,), 1e2, np.float64, False, True, "large gradients with a non-zero v"),
    )
    cases = []
    for shape, scale, dtype, zero, given_rho, what in situations:
        v = (
            np.zeros(shape, dtype)
            if zero
            else draw(rng, shape, scale * scale, dtype, positive=True)
        )
        kwargs = {"rho": uniform(rng, 0.6, 0.95)} if given_rho else {}
        cases.append(
            Case(
                (
                    draw(rng, shape, 1.0, dtype),
                    draw(rng, shape, scale, dtype),
                    v,
                    uniform(rng, 1e-4, 0.1),
                ),
                kwargs,
                what=what,
            )
        )
    check_cases(student, "rmsprop_step", cases, oracles.rmsprop, ("w_new", "v_new"))


@pytest.mark.points(4)
def test_rmsprop_matches_torch(student, rng):
    """Many steps against torch.optim.RMSprop(alpha=rho, eps=eps): tiny gradients with the
    default rho in float64, a given rho in float32."""
    runs = []
    for rho, dtype, scale, what in (
        (None, np.float64, 1e-6, "many steps with tiny gradients, float64"),
        (uniform(rng, 0.6, 0.95), np.float32, 1.0, "many steps with a given rho, float32"),
    ):
        n = int(rng.integers(25, 40))
        w0 = draw(rng, (5,), 1.0, dtype)
        grads = [draw(rng, (5,), scale, dtype) for _ in range(n)]
        lr = uniform(rng, 1e-4, 1e-2)
        hp = {"lr": lr} if rho is None else {"lr": lr, "rho": rho}
        expected = oracles.torch_trajectory("rmsprop", w0, grads, {"lr": lr, "rho": rho or 0.9})
        runs.append(Run(w0, grads, hp, expected, what))
    check_runs(
        student,
        "rmsprop_step",
        runs,
        ("w_new", "v_new"),
        takes_t=False,
        oracle_name="torch.optim.RMSprop(alpha=rho)",
    )


@pytest.mark.points(1)
def test_rmsprop_scalar(student, rng):
    """Python floats in give a scalar out."""
    check_cases(
        student,
        "rmsprop_step",
        [Case((draw(rng, (), 1.0), draw(rng, (), 1.0), 0.0, 0.01), what="Python floats")],
        oracles.rmsprop,
        ("w_new", "v_new"),
    )
